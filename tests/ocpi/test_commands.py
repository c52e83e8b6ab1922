"""The commands module as a receiver: an eMSP starts, stops and unlocks at a real station;
the answer comes at once and the station's result is POSTed to the eMSP afterwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from ocpp.routing import on
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16

from db.tables import ChargingSession, Reservation
from ocpi.v221.models import CommandResponse, Envelope
from tests.ocpi.emsp import data_of, token_header
from tests.ocpi.test_locations import add_site, available, place
from tests.ocpi.test_tokens import UID, a_token
from tests.ocpp_server.test_commands import Station16
from tests.ocpp_server.test_healing_offline import eventually


class Charger(Station16):
    @on(Action16.remote_stop_transaction)
    def remote_stop(self, **payload: Any) -> result16.RemoteStopTransaction:
        self.received.append(("RemoteStopTransaction", payload))
        return result16.RemoteStopTransaction(status="Accepted")


async def send(client: httpx.AsyncClient, connected, command: str, body: dict) -> Any:
    answer = await client.post(
        f"{connected.base}/commands/{command}", json=body, headers=token_header(connected.token)
    )
    return answer


async def test_an_emsp_starts_stops_and_unlocks_at_a_station(
    live_server, cpo, connected, register, connect_charger
):
    emsp = connected.emsp
    site_id = await add_site(cpo, "Commands")
    await register("CP-OCPI-CMD")
    await place("CP-OCPI-CMD", site_id)
    async with connect_charger("CP-OCPI-CMD", client_class=Charger) as station:
        uid = await available(station)
        async with httpx.AsyncClient() as client:
            # The eMSP wants to be asked about this token every time, but it started this
            # session itself: the station is told it is accepted.
            start = {
                "response_url": emsp.result_url("start"),
                "token": a_token(whitelist="NEVER"),
                "location_id": str(site_id),
                "evse_uid": str(uid),
            }
            answer = await send(client, connected, "START_SESSION", start)
            assert answer.status_code == 200, answer.text
            response = CommandResponse.model_validate(data_of(answer))
            assert response.result.value == "ACCEPTED" and response.timeout > 0
            assert await eventually(lambda: _has(emsp, "start"))
            assert emsp.results["start"].result.value == "ACCEPTED"
            assert station.received[-1] == (
                "RemoteStartTransaction",
                {"id_tag": UID, "connector_id": 1},
            )
            authorized = await station.call(call16.Authorize(id_tag=UID))
            assert authorized.id_tag_info["status"] == "Accepted"
            started = await station.call(
                call16.StartTransaction(
                    connector_id=1,
                    id_tag=UID,
                    meter_start=0,
                    timestamp=datetime.now(UTC).isoformat(),
                )
            )
            assert started.id_tag_info["status"] == "Accepted"
            session = await ChargingSession.select(ChargingSession.id).first()
            assert session is not None

            stop = {"response_url": emsp.result_url("stop"), "session_id": str(session["id"])}
            answer = await send(client, connected, "STOP_SESSION", stop)
            assert data_of(answer)["result"] == "ACCEPTED"
            assert await eventually(lambda: _has(emsp, "stop"))
            assert emsp.results["stop"].result.value == "ACCEPTED"
            assert station.received[-1][0] == "RemoteStopTransaction"

            unlock = {
                "response_url": emsp.result_url("unlock"),
                "location_id": str(site_id),
                "evse_uid": str(uid),
                "connector_id": "1",
            }
            answer = await send(client, connected, "UNLOCK_CONNECTOR", unlock)
            assert data_of(answer)["result"] == "ACCEPTED"
            assert await eventually(lambda: _has(emsp, "unlock"))
            assert emsp.results["unlock"].result.value == "ACCEPTED"

            # What cannot be done is answered at once, and nothing is sent to the station.
            sent = len(station.received)
            unknown = {"response_url": emsp.result_url("x"), "session_id": "999999"}
            answer = await send(client, connected, "STOP_SESSION", unknown)
            assert data_of(answer)["result"] == "UNKNOWN_SESSION"
            nowhere = start | {"location_id": "999999"}
            answer = await send(client, connected, "START_SESSION", nowhere)
            assert data_of(answer)["result"] == "REJECTED" and data_of(answer)["message"]
            cancel = {"response_url": emsp.result_url("x"), "reservation_id": "NONE"}
            answer = await send(client, connected, "CANCEL_RESERVATION", cancel)
            assert data_of(answer)["result"] == "REJECTED"
            answer = await send(client, connected, "START_SESSION", {"token": a_token()})
            assert Envelope.model_validate(answer.json()).status_code == 2001
            answer = await send(client, connected, "FLY_TO_THE_MOON", start)
            assert answer.status_code == 404
            assert len(station.received) == sent
            assert "x" not in emsp.results


async def _has(emsp, ref: str) -> bool:
    return ref in emsp.results


class Reserving(Charger):
    reserve_answer = "Accepted"

    @on(Action16.reserve_now)
    def reserve_now(self, **payload: Any) -> result16.ReserveNow:
        self.received.append(("ReserveNow", payload))
        return result16.ReserveNow(status=self.reserve_answer)

    @on(Action16.cancel_reservation)
    def cancel_reservation(self, **payload: Any) -> result16.CancelReservation:
        self.received.append(("CancelReservation", payload))
        return result16.CancelReservation(status="Accepted")


async def test_an_emsp_reserves_an_evse_for_its_driver_and_cancels_it(
    live_server, cpo, connected, register, connect_charger
):
    emsp = connected.emsp
    site_id = await add_site(cpo, "Reservations")
    await register("CP-OCPI-RES")
    await place("CP-OCPI-RES", site_id)
    async with connect_charger("CP-OCPI-RES", client_class=Reserving) as station:
        uid = await available(station)
        expiry = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        reserve = {
            "response_url": emsp.result_url("reserve"),
            # The eMSP wants to be asked about this token, but it reserved for it itself.
            "token": a_token(whitelist="NEVER"),
            "expiry_date": expiry,
            "reservation_id": "RES-1",
            "location_id": str(site_id),
            "evse_uid": str(uid),
            "authorization_reference": "REF-RES-1",
        }
        async with httpx.AsyncClient() as client:
            answer = await send(client, connected, "RESERVE_NOW", reserve)
            assert data_of(answer)["result"] == "ACCEPTED", answer.text
            assert await eventually(lambda: _has(emsp, "reserve"))
            assert emsp.results["reserve"].result.value == "ACCEPTED"
            kind, payload = station.received[-1]
            assert kind == "ReserveNow"
            assert (payload["id_tag"], payload["connector_id"]) == (UID, 1)
            [held] = await Reservation.select(
                Reservation.status, Reservation.partner_reference, Reservation.reservation_id
            )
            assert (held["status"], held["partner_reference"]) == ("Active", "RES-1")
            assert held["reservation_id"] == payload["reservation_id"]
            # The driver arrives: the token is accepted without asking the eMSP again.
            authorized = await station.call(call16.Authorize(id_tag=UID))
            assert authorized.id_tag_info["status"] == "Accepted"
            assert emsp.asked == []

            # The same reservation with a later expiry updates it: the station gets it again
            # under the same id, which replaces it there.
            later = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
            update = reserve | {
                "expiry_date": later.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "response_url": emsp.result_url("update"),
            }
            again = await send(client, connected, "RESERVE_NOW", update)
            assert data_of(again)["result"] == "ACCEPTED", again.text
            assert await eventually(lambda: _has(emsp, "update"))
            assert emsp.results["update"].result.value == "ACCEPTED"
            kind, payload = station.received[-1]
            assert kind == "ReserveNow" and payload["reservation_id"] == held["reservation_id"]
            [updated] = await Reservation.select(
                Reservation.status, Reservation.partner_reference, Reservation.expires_at
            )
            assert (updated["status"], updated["partner_reference"]) == ("Active", "RES-1")
            assert updated["expires_at"] == later

            # It is cancelled by its id.
            cancel = {"response_url": emsp.result_url("cancel"), "reservation_id": "RES-1"}
            answer = await send(client, connected, "CANCEL_RESERVATION", cancel)
            assert data_of(answer)["result"] == "ACCEPTED"
            assert await eventually(lambda: _has(emsp, "cancel"))
            assert emsp.results["cancel"].result.value == "CANCELED_RESERVATION"
            assert station.received[-1] == (
                "CancelReservation",
                {"reservation_id": held["reservation_id"]},
            )
            [cancelled] = await Reservation.select(Reservation.status)
            assert cancelled["status"] == "Cancelled"
            answer = await send(client, connected, "CANCEL_RESERVATION", cancel)
            assert data_of(answer)["result"] == "REJECTED"

            # A station that cannot hold the EVSE says why, and the eMSP hears it.
            station.reserve_answer = "Occupied"
            busy = reserve | {"reservation_id": "RES-2", "response_url": emsp.result_url("busy")}
            answer = await send(client, connected, "RESERVE_NOW", busy)
            assert data_of(answer)["result"] == "ACCEPTED"
            assert await eventually(lambda: _has(emsp, "busy"))
            assert emsp.results["busy"].result.value == "EVSE_OCCUPIED"
            past = reserve | {"reservation_id": "RES-3", "expiry_date": "2020-01-01T00:00:00Z"}
            answer = await send(client, connected, "RESERVE_NOW", past)
            assert data_of(answer)["result"] == "REJECTED"
