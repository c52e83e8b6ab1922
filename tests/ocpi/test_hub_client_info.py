"""The hub client info module as a receiver: a hub tells how each party it connects us with
stands, and reads back what it told."""

from __future__ import annotations

import httpx

from ocpi.v221.models import ClientInfo, Envelope
from tests.conftest import TEST_ORGANIZATION, graphql
from tests.ocpi.conftest import create_partner
from tests.ocpi.emsp import Emsp, data_of, token_header

HUB_PARTIES = """
{ partners { edges { node { partyId
  hubParties { totalCount edges { node { countryCode partyId role status lastUpdated } } }
} } } }
"""


async def test_a_hub_tells_how_its_parties_stand(live_server, cpo, api_key, connected):
    hub = Emsp(country="DE", party="HBX", role="HUB")
    await hub.start()
    try:
        admin = await api_key(TEST_ORGANIZATION, "admin")
        created = await create_partner(
            live_server, admin, name="Hub", countryCode="DE", partyId="HBX", role="HUB"
        )
        ours = await hub.register_with(created["versionsUrl"], created["tokenA"])
        base = f"{live_server.http}/ocpi/2.2.1/hubclientinfo"
        headers = token_header(ours["token"])
        info = {
            "party_id": "TNM",
            "country_code": "NL",
            "role": "EMSP",
            "status": "CONNECTED",
            "last_updated": "2026-12-07T10:00:00Z",
        }
        async with httpx.AsyncClient() as client:
            put = await client.put(f"{base}/NL/TNM", json=info, headers=headers)
            assert put.status_code == 200, put.text
            assert Envelope.model_validate(put.json()).status_code == 1000
            read = ClientInfo.model_validate(
                data_of(await client.get(f"{base}/NL/TNM", headers=headers))
            )
            assert (read.status.value, read.role.value) == ("CONNECTED", "EMSP")

            offline = info | {"status": "OFFLINE", "last_updated": "2026-12-07T11:00:00Z"}
            await client.put(f"{base}/NL/TNM", json=offline, headers=headers)
            read = ClientInfo.model_validate(
                data_of(await client.get(f"{base}/NL/TNM", headers=headers))
            )
            assert read.status.value == "OFFLINE"
            assert read.last_updated.startswith("2026-12-07T11:00:00")

            # Another party's object under this party's URL, an unknown party, a partner that
            # is no hub: refused, and nothing kept.
            wrong = await client.put(f"{base}/FR/ABC", json=offline, headers=headers)
            assert Envelope.model_validate(wrong.json()).status_code == 2001
            unknown = await client.get(f"{base}/FR/ABC", headers=headers)
            assert unknown.status_code == 404
            emsp = token_header(connected.token)
            refused = await client.put(f"{base}/NL/TNM", json=info, headers=emsp)
            assert Envelope.model_validate(refused.json()).status_code == 2001
            still = ClientInfo.model_validate(
                data_of(await client.get(f"{base}/NL/TNM", headers=headers))
            )
            assert still.status.value == "OFFLINE"

        # The operator reads what the hub told; an eMSP has no parties behind it.
        listed = await graphql(live_server, HUB_PARTIES, {}, admin)
        assert "errors" not in listed, listed
        parties = {
            node["node"]["partyId"]: [each["node"] for each in node["node"]["hubParties"]["edges"]]
            for node in listed["data"]["partners"]["edges"]
        }
        assert parties["HBX"] == [
            {
                "countryCode": "NL",
                "partyId": "TNM",
                "role": "EMSP",
                "status": "OFFLINE",
                "lastUpdated": "2026-12-07T11:00:00+00:00",
            }
        ]
        assert parties["TNM"] == []
    finally:
        await hub.stop()


async def test_a_hub_telling_of_more_parties_than_kept_is_refused_the_new_ones(
    live_server, cpo, api_key
):
    hub = Emsp(country="DE", party="HBX", role="HUB")
    await hub.start()
    try:
        admin = await api_key(TEST_ORGANIZATION, "admin")
        created = await create_partner(
            live_server, admin, name="Hub", countryCode="DE", partyId="HBX", role="HUB"
        )
        ours = await hub.register_with(created["versionsUrl"], created["tokenA"])
        base = f"{live_server.http}/ocpi/2.2.1/hubclientinfo"
        headers = token_header(ours["token"])

        async def tell(party: str, status: str = "CONNECTED") -> int:
            info = {
                "party_id": party,
                "country_code": "NL",
                "role": "EMSP",
                "status": status,
                "last_updated": "2026-12-07T10:00:00Z",
            }
            async with httpx.AsyncClient() as client:
                put = await client.put(f"{base}/NL/{party}", json=info, headers=headers)
            assert put.status_code == 200, put.text
            return Envelope.model_validate(put.json()).status_code

        # The suite's server keeps three parties per hub (CPMS_OCPI_MAX_HUB_PARTIES).
        assert [await tell(party) for party in ("AAA", "BBB", "CCC")] == [1000] * 3
        assert await tell("DDD") == 2000
        assert await tell("AAA", "OFFLINE") == 1000  # a party it told about before: kept
        async with httpx.AsyncClient() as client:
            unknown = await client.get(f"{base}/NL/DDD", headers=headers)
        assert unknown.status_code == 404
        listed = await graphql(live_server, HUB_PARTIES, {}, admin)
        (hub_node,) = listed["data"]["partners"]["edges"]
        assert hub_node["node"]["hubParties"]["totalCount"] == 3
    finally:
        await hub.stop()
