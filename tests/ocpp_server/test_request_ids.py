"""Ids a station echoes back: every remote start, firmware update, log upload and report gets
its own (positive, unique per station), and what the station reports with it is matched to it.
Real `ocpp` clients against the live server, driven through the GraphQL API."""

import asyncio
from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as Client16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as Client201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

from db.tables import ChargingSession, ChargingStation, IdToken, User
from tests.conftest import graphql
from tests.ocpp_server.test_commands import booted

REMOTE_START = """
mutation ($identity: String!, $token: String!, $evse: Int) {
  remoteStart(identity: $identity, idToken: $token, evseId: $evse) {
    __typename ... on CommandAccepted { requestId }
    ... on RejectedByStationError { stationStatus } } }
"""
REMOTE_STOP = """
mutation ($identity: String!, $tx: String!) {
  remoteStop(identity: $identity, transactionId: $tx) { __typename } }
"""
UPDATE_FIRMWARE = """
mutation ($identity: String!) {
  updateFirmware(identity: $identity, location: "https://fw.example/1.2.bin",
                 retrieveAt: "2026-12-06T10:00:00Z") {
    __typename ... on CommandAccepted { requestId } } }
"""
UPLOAD_LOGS = """
mutation ($identity: String!) {
  uploadLogs(identity: $identity, location: "https://logs.example/upload") {
    __typename ... on CommandAccepted { requestId } } }
"""
COMMAND_LOG = """
query ($identity: String!) { station(identity: $identity) {
  commands(first: 20) { edges { node { action requestId progress request } } } } }
"""


class RemoteStation201(Client201):
    """Starts what it is asked to and reports it as many stations do: the TransactionEvent
    echoes the remoteStartId and carries no idToken."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.transactions: asyncio.Queue[str] = asyncio.Queue()
        self.stopped: asyncio.Queue[str] = asyncio.Queue()
        self.requests: list[dict[str, Any]] = []

    @on(Action201.request_start_transaction)
    def request_start(self, **_: Any) -> result201.RequestStartTransaction:
        return result201.RequestStartTransaction(status="Accepted")

    @after(Action201.request_start_transaction)
    async def start_it(self, remote_start_id: int, evse_id: int, **_: Any) -> None:
        transaction_id = f"tx-{evse_id}"
        await self.call(
            call201.TransactionEvent(
                event_type="Started",
                timestamp="2026-12-06T09:00:00Z",
                trigger_reason="RemoteStart",
                seq_no=0,
                transaction_info={
                    "transactionId": transaction_id,
                    "remoteStartId": remote_start_id,
                },
                evse={"id": evse_id, "connectorId": 1},
            )
        )
        await self.transactions.put(transaction_id)

    @on(Action201.request_stop_transaction)
    def request_stop(self, **_: Any) -> result201.RequestStopTransaction:
        return result201.RequestStopTransaction(status="Accepted")

    @after(Action201.request_stop_transaction)
    async def stop_it(self, transaction_id: str, **_: Any) -> None:
        await self.call(
            call201.TransactionEvent(
                event_type="Ended",
                timestamp="2026-12-06T09:30:00Z",
                trigger_reason="RemoteStop",
                seq_no=1,
                transaction_info={"transactionId": transaction_id, "stoppedReason": "Remote"},
            )
        )
        await self.stopped.put(transaction_id)

    @on(Action201.update_firmware)
    def update_firmware(self, request_id: int, **_: Any) -> result201.UpdateFirmware:
        self.requests.append({"action": "UpdateFirmware", "request_id": request_id})
        return result201.UpdateFirmware(status="Accepted")

    @on(Action201.get_log)
    def get_log(self, request_id: int, **_: Any) -> result201.GetLog:
        self.requests.append({"action": "GetLog", "request_id": request_id})
        return result201.GetLog(status="Accepted")


async def _driver_with_card(organization: int, email: str, uid: str) -> int:
    user = User(organization=organization, email=email, role="driver")
    await user.save()
    await IdToken.insert(IdToken(organization=organization, uid=uid, type="ISO14443", user=user))
    return int(user.id)


async def _session(transaction_id: str) -> dict[str, Any]:
    row = await (
        ChargingSession.select(
            ChargingSession.id_tag,
            ChargingSession.id_token.uid,
            ChargingSession.user,
            ChargingSession.state,
        )
        .where(ChargingSession.transaction_id == transaction_id)
        .first()
    )
    assert row is not None, transaction_id
    return row


async def test_two_remote_starts_reported_without_tokens_each_charge_their_own_driver(
    register, organization, connect_charger, live_server, api_key
):
    """2.0.1: concurrent remote starts are told apart by their remoteStartId, and each session
    belongs to the card it was started with, through to its remote stop."""
    token = await api_key()
    ann = await _driver_with_card(organization, "ann@acme.example", "04ANN")
    bob = await _driver_with_card(organization, "bob@acme.example", "04BOB")
    await register("CP-RSID")
    async with connect_charger("CP-RSID", "ocpp2.0.1", client_class=RemoteStation201) as station:
        await booted(station, "ocpp2.0.1")
        answers = await asyncio.gather(
            *(
                graphql(
                    live_server,
                    REMOTE_START,
                    {"identity": "CP-RSID", "token": uid, "evse": evse},
                    token,
                )
                for uid, evse in (("04ANN", 1), ("04BOB", 2))
            )
        )
        started = [answer["data"]["remoteStart"] for answer in answers]
        assert [outcome["__typename"] for outcome in started] == ["CommandAccepted"] * 2, started
        request_ids = [outcome["requestId"] for outcome in started]
        assert all(request_id > 0 for request_id in request_ids)
        assert len(set(request_ids)) == 2
        await asyncio.wait_for(station.transactions.get(), 5)
        await asyncio.wait_for(station.transactions.get(), 5)
        assert await _session("tx-1") == {
            "id_tag": "04ANN",
            "id_token.uid": "04ANN",
            "user": ann,
            "state": "active",
        }
        assert (await _session("tx-2"))["user"] == bob

        stop = await graphql(live_server, REMOTE_STOP, {"identity": "CP-RSID", "tx": "tx-1"}, token)
        assert stop["data"]["remoteStop"]["__typename"] == "CommandAccepted"
        await asyncio.wait_for(station.stopped.get(), 5)
    ended = await _session("tx-1")
    assert (ended["id_token.uid"], ended["user"], ended["state"]) == ("04ANN", ann, "completed")


class RemoteStation16(Client16):
    """A 1.6 station that starts what it is asked to (StartTransaction carries the idTag)
    and stops on request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.transactions: asyncio.Queue[int] = asyncio.Queue()
        self.stopped: asyncio.Queue[int] = asyncio.Queue()

    @on(Action16.remote_start_transaction)
    def remote_start(self, **_: Any) -> result16.RemoteStartTransaction:
        return result16.RemoteStartTransaction(status="Accepted")

    @after(Action16.remote_start_transaction)
    async def start_it(self, id_tag: str, connector_id: int, **_: Any) -> None:
        answer = await self.call(
            call16.StartTransaction(
                connector_id=connector_id,
                id_tag=id_tag,
                meter_start=1000,
                timestamp="2026-12-06T09:00:00Z",
            )
        )
        await self.transactions.put(answer.transaction_id)

    @on(Action16.remote_stop_transaction)
    def remote_stop(self, **_: Any) -> result16.RemoteStopTransaction:
        return result16.RemoteStopTransaction(status="Accepted")

    @after(Action16.remote_stop_transaction)
    async def stop_it(self, transaction_id: int, **_: Any) -> None:
        await self.call(
            call16.StopTransaction(
                transaction_id=transaction_id,
                meter_stop=8000,
                timestamp="2026-12-06T09:30:00Z",
                reason="Remote",
            )
        )
        await self.stopped.put(transaction_id)

    @on(Action16.update_firmware)
    def update_firmware(self, **_: Any) -> result16.UpdateFirmware:
        return result16.UpdateFirmware()


async def test_a_16_remote_start_to_remote_stop_charges_the_card_it_was_started_with(
    register, organization, connect_charger, live_server, api_key
):
    token = await api_key()
    ann = await _driver_with_card(organization, "ann@acme.example", "04ANN16")
    await register("CP-RS16")
    async with connect_charger("CP-RS16", client_class=RemoteStation16) as station:
        await booted(station, "ocpp1.6")
        started = await graphql(
            live_server, REMOTE_START, {"identity": "CP-RS16", "token": "04ANN16", "evse": 1}, token
        )
        assert started["data"]["remoteStart"]["__typename"] == "CommandAccepted"
        transaction_id = str(await asyncio.wait_for(station.transactions.get(), 5))
        stop = await graphql(
            live_server, REMOTE_STOP, {"identity": "CP-RS16", "tx": transaction_id}, token
        )
        assert stop["data"]["remoteStop"]["__typename"] == "CommandAccepted"
        await asyncio.wait_for(station.stopped.get(), 5)
    ended = await _session(transaction_id)
    assert (ended["id_token.uid"], ended["user"], ended["state"]) == ("04ANN16", ann, "completed")


def _by_request(log: dict[str, Any]) -> dict[int, dict[str, Any]]:
    edges = log["data"]["station"]["commands"]["edges"]
    return {edge["node"]["requestId"]: edge["node"] for edge in edges if edge["node"]["requestId"]}


async def test_firmware_and_log_reports_are_kept_on_the_request_they_echo(
    register, connect_charger, live_server, api_key
):
    token = await api_key()
    await register("CP-REQ201")
    async with connect_charger("CP-REQ201", "ocpp2.0.1", client_class=RemoteStation201) as station:
        await booted(station, "ocpp2.0.1")
        variables = {"identity": "CP-REQ201"}
        first, second = [
            (await graphql(live_server, UPDATE_FIRMWARE, variables, token))["data"][
                "updateFirmware"
            ]["requestId"]
            for _ in range(2)
        ]
        logs = (await graphql(live_server, UPLOAD_LOGS, variables, token))["data"]["uploadLogs"]
        assert len({first, second, logs["requestId"]}) == 3
        assert [request["request_id"] for request in station.requests] == [
            first,
            second,
            logs["requestId"],
        ]
        # The station reports on the first update after the second was sent.
        await station.call(
            call201.FirmwareStatusNotification(status="Downloading", request_id=first)
        )
        await station.call(
            call201.LogStatusNotification(status="Uploading", request_id=logs["requestId"])
        )
    entries = _by_request(await graphql(live_server, COMMAND_LOG, variables, token))
    assert entries[first]["progress"] == "Downloading"
    assert entries[second]["progress"] is None
    assert entries[logs["requestId"]]["progress"] == "Uploading"
    assert entries[first]["request"]["requestId"] == first


async def test_a_16_firmware_report_is_kept_on_the_latest_update(
    register, connect_charger, live_server, api_key
):
    """1.6 reports echo no id: they tell the progress of the latest accepted update."""
    token = await api_key()
    await register("CP-REQ16")
    async with connect_charger("CP-REQ16", client_class=RemoteStation16) as station:
        await booted(station, "ocpp1.6")
        variables = {"identity": "CP-REQ16"}
        ids = [
            (await graphql(live_server, UPDATE_FIRMWARE, variables, token))["data"][
                "updateFirmware"
            ]["requestId"]
            for _ in range(2)
        ]
        await station.call(call16.FirmwareStatusNotification(status="Installing"))
    entries = _by_request(await graphql(live_server, COMMAND_LOG, variables, token))
    assert [entries[request_id]["progress"] for request_id in ids] == [None, "Installing"]


async def test_request_ids_start_again_at_1_after_the_largest_a_station_can_echo(
    register, connect_charger, live_server, api_key
):
    token = await api_key()
    station_record = await register("CP-REQWRAP")
    await ChargingStation.update({ChargingStation.last_request_id: 2**31 - 2}).where(
        ChargingStation.id == station_record.id
    )
    async with connect_charger("CP-REQWRAP", "ocpp2.0.1", client_class=RemoteStation201) as station:
        await booted(station, "ocpp2.0.1")
        ids = [
            (await graphql(live_server, UPLOAD_LOGS, {"identity": "CP-REQWRAP"}, token))["data"][
                "uploadLogs"
            ]["requestId"]
            for _ in range(2)
        ]
    assert ids == [2**31 - 1, 1]
    assert [request["request_id"] for request in station.requests] == ids
