"""Pulling an eMSP's tokens: a partner that lists its tokens (the tokens module as sender) has
them pulled whole after it registers and then for what changed, page by page as its paging
says; a real station's Authorize then follows them without asking the partner."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from db.tables import IdToken, Partner
from ocpi.v211 import models as v211
from ocpi.v221.models import Token
from tests.conftest import TEST_ORGANIZATION, graphql
from tests.ocpi.conftest import create_partner
from tests.ocpi.emsp import Emsp, data_of, token_header
from tests.ocpi.test_tokens import authorize
from tests.ocpp_server.test_commands import booted
from tests.ocpp_server.test_healing_offline import eventually

HEALTH = "{ partners { edges { node { partyId tokensPulledAt tokensPullError } } } }"
EARLIER = "2026-12-01T10:00:00Z"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def connect(live_server, api_key, emsp: Emsp, **fields) -> str:
    """The eMSP registers with the test operator; the token it calls us with."""
    admin = await api_key(TEST_ORGANIZATION, "admin")
    created = await create_partner(live_server, admin, **fields)
    ours = await emsp.register_with(created["versionsUrl"], created["tokenA"])
    return str(ours["token"])


async def partner_tokens() -> dict[str, dict]:
    rows = await IdToken.select(IdToken.uid, IdToken.status, IdToken.partner).where(
        IdToken.partner.is_not_null()
    )
    return {row["uid"]: row for row in rows}


async def pulled() -> bool:
    row = await Partner.select(Partner.tokens_pulled_at).first()
    return row is not None and row["tokens_pulled_at"] is not None


async def health(live_server, api_key) -> dict:
    admin = await api_key(TEST_ORGANIZATION, "admin")
    result = await graphql(live_server, HEALTH, token=admin)
    return result["data"]["partners"]["edges"][0]["node"]


async def test_an_emsps_tokens_are_pulled_whole_then_as_they_change(
    live_server, cpo, api_key, emsp, register, connect_charger
):
    for number in range(1, 6):
        emsp.issue(f"CARD{number}", EARLIER)
    emsp.issue("OTHERPARTY", EARLIER, country_code="DE", party_id="XXX")  # not the eMSP's
    emsp.listed.append({"uid": "BROKEN", "type": "RFID", "last_updated": EARLIER})  # no Token
    # A uid that is one of the operator's own cards stays the operator's.
    await IdToken.insert(IdToken(organization=cpo, uid="OWNCARD", type="ISO14443"))
    emsp.issue("OWNCARD", EARLIER)
    token = await connect(live_server, api_key, emsp)

    assert await eventually(pulled)
    kept = await partner_tokens()
    assert sorted(kept) == [f"CARD{number}" for number in range(1, 6)]
    assert {row["status"] for row in kept.values()} == {"Accepted"}
    own = await IdToken.select(IdToken.partner).where(IdToken.uid == "OWNCARD").first()
    assert own == {"partner": None}
    # The whole list, page by page as the eMSP's Link header said (two Tokens a page).
    first_pull = emsp.list_requests[:4]
    assert "date_from" not in first_pull[0]
    assert [each.get("offset") for each in first_pull] == [None, "2", "4", "6"]
    node = await health(live_server, api_key)
    assert node["tokensPulledAt"] and node["tokensPullError"] is None

    # Kept as the eMSP listed it: its own tokens module gives it back so.
    async with httpx.AsyncClient() as client:
        read = await client.get(
            f"{live_server.http}/ocpi/2.2.1/tokens/NL/TNM/CARD1", headers=token_header(token)
        )
    assert data_of(read) == next(each for each in emsp.listed if each["uid"] == "CARD1")
    Token.model_validate(data_of(read))

    # A station's Authorize follows the pulled tokens without asking the eMSP.
    await register("CP-PULL")
    async with connect_charger("CP-PULL") as station:
        await booted(station, "ocpp1.6")
        assert await authorize(station, "CARD1") == "Accepted"
        assert emsp.asked == []

        # The eMSP blocks one card and issues another: the next pull asks for what changed.
        emsp.issue("CARD2", now(), valid=False)
        emsp.issue("CARD6", now())

        async def changes_pulled() -> bool:
            kept = await partner_tokens()
            return "CARD6" in kept and kept["CARD2"]["status"] == "Invalid"

        assert await eventually(changes_pulled)
        assert "date_from" in emsp.list_requests[-1]
        assert await authorize(station, "CARD2") == "Invalid"
        assert await authorize(station, "CARD6") == "Accepted"


async def test_a_failed_pull_shows_with_the_partner_and_is_tried_again(
    live_server, cpo, api_key, emsp
):
    emsp.issue("CARD1", EARLIER)
    await connect(live_server, api_key, emsp)
    assert await eventually(pulled)

    emsp.down = True

    async def failing() -> bool:
        error = (await health(live_server, api_key))["tokensPullError"]
        return error is not None and "503" in error

    assert await eventually(failing)
    emsp.issue("CARD2", now())
    emsp.down = False

    async def recovered() -> bool:
        return (await health(live_server, api_key))["tokensPullError"] is None

    assert await eventually(recovered)
    assert sorted(await partner_tokens()) == ["CARD1", "CARD2"]

    # A list whose next page is its first again is read once, not forever.
    emsp.issue("CARD3", now())
    emsp.issue("CARD4", now())
    emsp.issue("CARD5", now())
    emsp.list_loops = True

    async def looping() -> bool:
        error = (await health(live_server, api_key))["tokensPullError"]
        return error is not None and "already read" in error

    assert await eventually(looping)

    # A list longer than CPMS_OCPI_MAX_PULLED_TOKENS (the suite's server: 1,000) is read that
    # far, not on and on.
    emsp.list_loops = False
    emsp.list_page = 600
    for number in range(1001):
        emsp.issue(f"BULK{number}", now())

    async def too_long() -> bool:
        error = (await health(live_server, api_key))["tokensPullError"]
        return error is not None and "more than 1000 tokens" in error

    assert await eventually(too_long)


async def test_a_hub_lists_the_tokens_of_the_parties_behind_it(live_server, cpo, api_key):
    hub = Emsp(country="DE", party="HUB", role="HUB")
    await hub.start()
    try:
        hub.issue("NLCARD", EARLIER, country_code="NL", party_id="TNM")
        hub.issue("BECARD", EARLIER, country_code="BE", party_id="BMS")
        await connect(live_server, api_key, hub, countryCode="DE", partyId="HUB", role="HUB")
        assert await eventually(pulled)
    finally:
        await hub.stop()
    assert sorted(await partner_tokens()) == ["BECARD", "NLCARD"]


async def test_a_211_emsps_tokens_are_pulled_in_211(
    live_server, cpo, api_key, register, connect_charger
):
    legacy = Emsp(version="2.1.1")
    await legacy.start()
    try:
        listed = legacy.issue("CARD211", EARLIER)
        token = await connect(live_server, api_key, legacy)
        assert await eventually(pulled)
    finally:
        await legacy.stop()
    async with httpx.AsyncClient() as client:
        read = await client.get(
            f"{live_server.http}/ocpi/2.1.1/tokens/NL/TNM/CARD211",
            headers=token_header(token, encoded=False),
        )
    assert data_of(read) == listed  # in 2.1.1's form: no party, auth_id
    v211.Token.model_validate(data_of(read))
    await register("CP-PULL-211")
    async with connect_charger("CP-PULL-211") as station:
        await booted(station, "ocpp1.6")
        assert await authorize(station, "CARD211") == "Accepted"


PULL_AGAIN = """
mutation ($id: ID!) { pullPartnerTokens(id: $id) {
  __typename ... on PartnerSaved { partner { tokensPulledAt } } ... on UserError { code } } }
"""


async def test_the_operator_has_a_partners_whole_list_pulled_again(live_server, cpo, api_key, emsp):
    emsp.issue("CARD1", EARLIER)
    emsp.issue("CARD2", EARLIER)
    admin = await api_key(TEST_ORGANIZATION, "admin")
    created = await create_partner(live_server, admin)
    await emsp.register_with(created["versionsUrl"], created["tokenA"])
    assert await eventually(pulled)
    # Lost here: pulls of what changed since do not bring them back (they did not change).
    await IdToken.delete().where(IdToken.partner.is_not_null())
    asked = len(emsp.list_requests)

    async def asked_for_changes() -> bool:
        return any("date_from" in each for each in emsp.list_requests[asked:])

    assert await eventually(asked_for_changes)
    assert await partner_tokens() == {}

    partner_id = created["partner"]["id"]
    again = await graphql(live_server, PULL_AGAIN, {"id": partner_id}, admin)
    assert again["data"]["pullPartnerTokens"]["__typename"] == "PartnerSaved", again

    async def restored() -> bool:
        return sorted(await partner_tokens()) == ["CARD1", "CARD2"]

    assert await eventually(restored)
    viewer = await api_key(TEST_ORGANIZATION, "viewer")
    refused = await graphql(live_server, PULL_AGAIN, {"id": partner_id}, viewer)
    assert refused["data"]["pullPartnerTokens"]["__typename"] != "PartnerSaved", refused
