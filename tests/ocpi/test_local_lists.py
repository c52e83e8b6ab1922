"""Partners' tokens in stations' local authorization lists: once the operator says so, the
tokens a partner lets us use without asking it reach every connected station's list (1.6 and
2.0.1), a whole list first, then each change; a station that cannot keep a list is left
alone."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from ocpp.routing import on
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16

from app.roaming.local_lists import SETTLE
from db.tables import StationLocalList
from tests.conftest import TEST_ORGANIZATION, graphql
from tests.ocpi.emsp import token_header
from tests.ocpi.test_tokens import a_token
from tests.ocpp_server.test_commands import Station16, booted
from tests.ocpp_server.test_healing_offline import eventually
from tests.ocpp_server.test_more_commands import MoreStation16, MoreStation201

# Under a loaded machine a change waits for its round and the settling time: more than the
# usual patience.
PATIENCE = 20.0

UPDATE = """
mutation ($id: ID!, $input: UpdatePartnerInput!) { updatePartner(id: $id, input: $input) {
  __typename ... on PartnerSaved { partner { stationLocalLists } } } }
"""


LOCAL_LIST = """
query ($identity: String!) { station(identity: $identity) {
  localList { version state syncedTo nextAttemptAt updatedAt } } }
"""


class ListlessStation16(Station16):
    """A 1.6 station without the LocalAuthListManagement profile."""

    @on(Action16.send_local_list)
    def send_local_list(self, **payload: Any) -> result16.SendLocalList:
        self.received.append(("SendLocalList", payload))
        return result16.SendLocalList(status="NotSupported")


class ListKeepingStation16(MoreStation16):
    """A 1.6 station that keeps the version of the list it was sent, until it loses its
    memory (a controller replaced under the same identity)."""

    list_version = 0

    @on(Action16.send_local_list)
    def send_local_list(self, **payload: Any) -> result16.SendLocalList:
        self.received.append(("SendLocalList", payload))
        self.list_version = payload["list_version"]
        return result16.SendLocalList(status="Accepted")

    @on(Action16.get_local_list_version)
    def get_local_list_version(self, **payload: Any) -> result16.GetLocalListVersion:
        self.received.append(("GetLocalListVersion", payload))
        return result16.GetLocalListVersion(list_version=self.list_version)


def asked_version(station) -> int:
    return sum(action == "GetLocalListVersion" for action, _ in station.received)


def updates(station) -> list[dict[str, Any]]:
    return [payload for action, payload in station.received if action == "SendLocalList"]


def listed_16(update: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [
        (entry["id_tag"], entry.get("id_tag_info", {}).get("status"))
        for entry in update["local_authorization_list"]
    ]


def listed_201(update: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [
        (entry["id_token"]["id_token"], entry.get("id_token_info", {}).get("status"))
        for entry in update.get("local_authorization_list") or []
    ]


def changes_since(station, listed, first: int) -> dict[str, str | None]:
    """What the differential updates after the first `first` ones said, the last word on
    each token winning; each has the version after the one before."""
    later = updates(station)[first:]
    versions = [update.get("list_version", update.get("version_number")) for update in later]
    assert versions == list(range(first + 1, first + 1 + len(later)))
    assert all(update["update_type"] == "Differential" for update in later)
    return {uid: status for update in later for uid, status in listed(update)}


async def test_a_partners_whitelisted_tokens_reach_and_follow_every_stations_local_list(
    live_server, connected, api_key, register, connect_charger
):
    admin = await api_key(TEST_ORGANIZATION, "admin")
    headers = token_header(connected.token)
    tokens = {
        "A1": {"whitelist": "ALWAYS"},
        "A2": {"whitelist": "ALLOWED"},
        "A3": {"whitelist": "ALLOWED"},
        "N1": {"whitelist": "NEVER"},  # to be asked about every time: not listed
        "O1": {"whitelist": "ALLOWED_OFFLINE"},  # asked about while the partner answers
        "B1": {"whitelist": "ALWAYS", "valid": False},
    }

    async def send(method: str, uid: str, body: dict[str, Any]) -> None:
        url = f"{connected.base}/tokens/NL/TNM/{uid}"
        async with httpx.AsyncClient(headers=headers) as client:
            answer = await client.request(method, url, json=body)
            assert answer.status_code == 200, answer.text

    for uid, changes in tokens.items():
        await send("PUT", uid, a_token(uid=uid, contract_id=f"NL-TNM-C{uid}", **changes))
    await asyncio.sleep(SETTLE.total_seconds())  # the changes are surely committed
    for identity in ("CP-LL-16", "CP-LL-201", "CP-LL-NONE"):
        await register(identity)
    async with (
        connect_charger("CP-LL-16", client_class=ListKeepingStation16) as station16,
        connect_charger("CP-LL-201", "ocpp2.0.1", client_class=MoreStation201) as station201,
        connect_charger("CP-LL-NONE", client_class=ListlessStation16) as listless,
    ):
        await booted(station16, "ocpp1.6")
        await booted(station201, "ocpp2.0.1")
        await booted(listless, "ocpp1.6")

        listed = await graphql(
            live_server,
            UPDATE,
            {"id": connected.partner_id, "input": {"stationLocalLists": True}},
            admin,
        )
        assert listed["data"]["updatePartner"]["partner"] == {"stationLocalLists": True}

        # The whole list, in messages of two (CPMS_LOCAL_LIST_ITEMS_PER_MESSAGE in the tests):
        # a Full update, then a Differential one, each with the next version.
        async def sent(station, count: int) -> bool:
            return len(updates(station)) >= count

        assert await eventually(lambda: sent(station16, 2), PATIENCE)
        first, second = updates(station16)
        assert (first["list_version"], first["update_type"]) == (1, "Full")
        assert (second["list_version"], second["update_type"]) == (2, "Differential")
        whole = [("A1", "Accepted"), ("A2", "Accepted"), ("A3", "Accepted")]
        assert listed_16(first) + listed_16(second) == whole
        assert await eventually(lambda: sent(station201, 2), PATIENCE)
        first, second = updates(station201)
        assert (first["version_number"], first["update_type"]) == (1, "Full")
        assert listed_201(first) + listed_201(second) == whole
        assert first["local_authorization_list"][0]["id_token"]["type"] == "ISO14443"

        # A station that cannot keep a list is asked once, and not again for a while.
        assert await eventually(lambda: sent(listless, 1), PATIENCE)

        async def states() -> dict[str, tuple[str, int]]:
            rows = await StationLocalList.select(
                StationLocalList.station.identity, StationLocalList.state, StationLocalList.version
            )
            return {row["station.identity"]: (row["state"], row["version"]) for row in rows}

        async def settled(expected: dict[str, tuple[str, int]]) -> bool:
            return await states() == expected

        assert await eventually(
            lambda: settled(
                {
                    "CP-LL-16": ("synced", 2),
                    "CP-LL-201": ("synced", 2),
                    "CP-LL-NONE": ("not_supported", 0),
                }
            ),
            PATIENCE,
        )

        # The operator sees where each station's list stands.
        async def local_list(identity: str) -> dict[str, Any] | None:
            found = await graphql(live_server, LOCAL_LIST, {"identity": identity}, admin)
            return found["data"]["station"]["localList"]

        synced = await local_list("CP-LL-16")
        assert synced is not None
        assert (synced["state"], synced["version"]) == ("SYNCED", 2)
        assert synced["syncedTo"] is not None and synced["nextAttemptAt"] is None
        listless_state = await local_list("CP-LL-NONE")
        assert listless_state is not None and listless_state["state"] == "NOT_SUPPORTED"
        assert listless_state["nextAttemptAt"] is not None

        # The partner blocks one token and wants to be asked about another: each station gets
        # the changes alone (in one update, or two when a round falls between them), the
        # blocked token kept as refused, the other one removed.
        await send("PATCH", "A2", {"valid": False, "last_updated": "2026-12-03T10:00:00Z"})
        await send("PATCH", "A1", {"whitelist": "NEVER", "last_updated": "2026-12-03T10:00:00Z"})
        changed = {"A1": None, "A2": "Invalid"}
        for station, listed in ((station16, listed_16), (station201, listed_201)):

            async def followed(station=station, listed=listed) -> bool:
                return changes_since(station, listed, 2) == changed

            assert await eventually(followed, PATIENCE)
        sent16, sent201 = len(updates(station16)), len(updates(station201))

        # The operator takes the partner's tokens out again: a whole, empty list.
        unlisted = await graphql(
            live_server,
            UPDATE,
            {"id": connected.partner_id, "input": {"stationLocalLists": False}},
            admin,
        )
        assert unlisted["data"]["updatePartner"]["partner"] == {"stationLocalLists": False}
        assert await eventually(lambda: sent(station16, sent16 + 1), PATIENCE)
        emptied = updates(station16)[-1]
        assert (emptied["list_version"], emptied["update_type"]) == (sent16 + 1, "Full")
        assert emptied["local_authorization_list"] == []
        assert await eventually(lambda: sent(station201, sent201 + 1), PATIENCE)
        assert updates(station201)[-1]["update_type"] == "Full"
        assert listed_201(updates(station201)[-1]) == []
        assert await eventually(
            lambda: settled(
                {
                    "CP-LL-16": ("synced", sent16 + 1),
                    "CP-LL-201": ("synced", sent201 + 1),
                    "CP-LL-NONE": ("not_supported", 0),
                }
            ),
            PATIENCE,
        )
        assert len(updates(listless)) == 1
        assert len(updates(station16)) == sent16 + 1  # nothing more once up to date
        assert asked_version(station16) == 0

        # The station boots again: asked which list it has, the one it was sent, so nothing
        # is sent. Then it boots having lost its list: it gets the whole list again.
        await booted(station16, "ocpp1.6")

        async def asked(count: int) -> bool:
            return asked_version(station16) >= count

        assert await eventually(lambda: asked(1), PATIENCE)
        await asyncio.sleep(1.5)  # three rounds
        assert len(updates(station16)) == sent16 + 1 and asked_version(station16) == 1
        station16.list_version = 0
        await booted(station16, "ocpp1.6")
        assert await eventually(lambda: sent(station16, sent16 + 2), PATIENCE)
        again = updates(station16)[-1]
        assert (again["list_version"], again["update_type"]) == (sent16 + 2, "Full")
        assert asked_version(station16) == 2
