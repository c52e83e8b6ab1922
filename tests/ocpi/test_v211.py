"""OCPI 2.1.1 from the same domain: an eMSP that speaks only 2.1.1 registers (either side
first), pulls our Locations and Tariffs in 2.1.1's form, and is pushed them; every object is
checked against the 2.1.1 definitions by the test eMSP."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from ocpp.v16 import call as call16

from app.demo import TARIFFS
from app.roaming.models import PartyRole, Tariffs
from app.tariffs.models import TariffView
from db.tables import ChargingSession, IdToken, Partner, Tariff
from ocpi.v211 import models as v211
from ocpi.v211.tariffs import tariff, tariff_bodies
from ocpi.wire import NotSendable
from tests.conftest import TEST_ORGANIZATION, graphql
from tests.ocpi.conftest import Connected, create_partner
from tests.ocpi.emsp import Emsp, data_of, token_header
from tests.ocpi.test_cdrs import charge
from tests.ocpi.test_commands import Charger
from tests.ocpi.test_credentials import REGISTER
from tests.ocpi.test_location_pushes import following, pushes_started, status
from tests.ocpi.test_locations import add_site, available, place
from tests.ocpi.test_sessions import now
from tests.ocpi.test_tariffs import add_tariff, assign
from tests.ocpi.test_tokens import UID, authorize
from tests.ocpp_server.test_healing_offline import eventually

RAW = {"encoded": False}  # 2.1.1 peers send the token as it is
HOURS = {
    "twentyfourseven": False,
    "regular_hours": [
        {"weekday": day, "period_begin": "08:00", "period_end": "20:00"} for day in range(1, 7)
    ],
}
OPERATOR = PartyRole(role="CPO", country_code="DE", party_id="ACM", name="Acme")
PLAIN = {"price_components": [{"type": "ENERGY", "price": "0.39", "vat": "19", "step_size": 1}]}
RESERVING = {
    "price_components": [{"type": "TIME", "price": "1.20", "step_size": 60}],
    "restrictions": {"reservation": "RESERVATION"},
}
STRONG = {
    "price_components": [{"type": "ENERGY", "price": "0.59", "step_size": 1}],
    "restrictions": {"min_current": "32"},
}


def tariff_view(code: str, elements: list[dict]) -> TariffView:
    return TariffView(
        id=1,
        code=code,
        name=code,
        currency="EUR",
        type="REGULAR",
        elements=elements,
        min_price_minor=100,
        max_price_minor=None,
        alt_text=[{"language": "de", "text": "Günstig"}],
        start_at=None,
        end_at=None,
        updated_at=datetime.now(UTC),
    )


def test_what_211_cannot_say_of_a_tariff_is_left_out_not_said_wrongly():
    page = Tariffs(operator=OPERATOR, tariffs=[], total=0)
    shown = tariff(tariff_view("MIXED", [RESERVING, STRONG, PLAIN]), page)
    # Reservation and current-range prices cannot be restricted in 2.1.1: left out.
    assert [each.price_components[0].price for each in shown.elements] == [0.39]
    assert shown.tariff_alt_text[0].text == "Gunstig"
    with pytest.raises(NotSendable):
        tariff(tariff_view("RESERVING", [RESERVING]), page)
    # A page leaves out a tariff it cannot send.
    both = Tariffs(
        operator=OPERATOR,
        tariffs=[tariff_view("RESERVING", [RESERVING]), tariff_view("PLAIN", [PLAIN])],
        total=2,
    )
    assert [each["id"] for each in tariff_bodies(both)] == ["PLAIN"]


@pytest.fixture
async def legacy() -> AsyncIterator[Emsp]:
    partner = Emsp(version="2.1.1")
    await partner.start()
    yield partner
    await partner.stop()


@pytest.fixture
async def connected_211(live_server, cpo, api_key, legacy) -> Connected:
    """The 2.1.1 eMSP, registered with the test operator (it called first)."""
    admin = await api_key(TEST_ORGANIZATION, "admin")
    created = await create_partner(live_server, admin)
    ours = await legacy.register_with(created["versionsUrl"], created["tokenA"])
    return Connected(
        legacy, ours["token"], f"{live_server.http}/ocpi/2.1.1", created["partner"]["id"]
    )


async def test_a_211_emsp_registers_in_211(live_server, cpo, api_key, legacy):
    admin = await api_key(TEST_ORGANIZATION, "admin")
    created = await create_partner(live_server, admin)
    token_a = created["tokenA"]
    async with httpx.AsyncClient() as client:
        listed = await client.get(created["versionsUrl"], headers=token_header(token_a, **RAW))
    assert [each["version"] for each in data_of(listed)] == ["2.2.1", "2.1.1"]

    ours = await legacy.register_with(created["versionsUrl"], token_a)
    # 2.1.1 credentials: one party, no roles.
    assert (ours["country_code"], ours["party_id"]) == ("DE", "ACM")
    assert "roles" not in ours
    # Before answering, we read its versions and 2.1.1 details with token B, as it is.
    looked = [(method, path) for method, path, token in legacy.calls if token == legacy.token_b]
    assert looked[:2] == [("GET", "/ocpi/versions"), ("GET", "/ocpi/2.1.1")]
    row = await Partner.select(Partner.version, Partner.endpoints).first()
    assert row is not None and row["version"] == "2.1.1"
    endpoints = row["endpoints"]
    endpoints = json.loads(endpoints) if isinstance(endpoints, str) else endpoints
    roles = {each["identifier"]: each["role"] for each in endpoints}
    assert roles["locations"] == "RECEIVER" and roles["tokens"] == "SENDER"

    async with httpx.AsyncClient() as client:
        base = f"{live_server.http}/ocpi/2.1.1"
        refused = await client.get(base, headers=token_header(token_a, **RAW))
        assert refused.status_code == 401  # token A stopped working
        details = await client.get(base, headers=token_header(ours["token"], **RAW))
        assert details.status_code == 200
        shown = v211.VersionDetails.model_validate(data_of(details))
        assert [each.identifier for each in shown.endpoints] == [
            "credentials",
            "locations",
            "tariffs",
            "sessions",
            "cdrs",
            "tokens",
            "commands",
        ]
        assert "role" not in data_of(details)["endpoints"][0]
        read = await client.get(f"{base}/credentials", headers=token_header(ours["token"]))
        assert read.status_code == 200  # a base64 token is read too
        v211.Credentials.model_validate(data_of(read))


async def test_we_register_with_a_partner_that_speaks_only_211(live_server, cpo, api_key, legacy):
    admin = await api_key(TEST_ORGANIZATION, "admin")
    given = {
        "name": "Legacy Mobility",
        "countryCode": "NL",
        "partyId": "TNM",
        "versionsUrl": f"{legacy.base}/versions",
        "tokenA": legacy.token_a,
    }
    result = await graphql(live_server, REGISTER, {"input": given}, admin)
    registered = result["data"]["registerPartner"]
    assert registered["__typename"] == "PartnerRegistered", registered
    assert registered["partner"]["version"] == "2.1.1"
    assert registered["partner"]["roles"] == ["EMSP"]
    # The token in base64 first (which a 2.1.1 peer does not read), then as it is.
    encoded = base64.b64encode(legacy.token_a.encode()).decode()
    assert legacy.calls[:4] == [
        ("GET", "/ocpi/versions", encoded),
        ("GET", "/ocpi/versions", legacy.token_a),
        ("GET", "/ocpi/2.1.1", legacy.token_a),
        ("POST", "/ocpi/2.1.1/credentials", legacy.token_a),
    ]
    (sent,) = legacy.received_credentials
    assert (sent.country_code, sent.party_id) == ("DE", "ACM")
    assert legacy.cpms_versions_checked == [200]  # it read our versions with the raw token
    row = await Partner.select(Partner.outgoing_token).first()
    assert row is not None and row["outgoing_token"] in legacy.accepted


async def test_a_211_partner_pulls_and_is_pushed_locations_and_tariffs(
    live_server, cpo, connected_211, register, connect_charger
):
    legacy = connected_211.emsp
    # Pushes start from the registration on.
    assert await eventually(pushes_started) and await eventually(following)
    site_id = await add_site(
        cpo,
        "Köln Hbf",
        city="Köln",
        address="Trankgasse 11",
        opening_hours=HOURS,
        energy_mix={
            "is_green_energy": True,
            "environ_impact": [{"category": "CARBON_DIOXIDE", "amount": 0}],
            "supplier_name": "Grünstrom",
        },
        parking_type="UNDERGROUND_GARAGE",
    )
    tariff_id = await add_tariff(cpo, "AC-LEGACY", min_price_minor=150)
    await assign(cpo, tariff_id)
    # One 2.1.1 cannot express (it prices reservations only): neither sent nor listed, and
    # the others still go.
    unsayable = await Tariff.insert(
        Tariff(
            organization=cpo, code="AA-RESERVING", name="R", currency="EUR", elements=[RESERVING]
        )
    ).returning(Tariff.id)
    await assign(cpo, unsayable[0]["id"])
    await register("CP-211")
    await place("CP-211", site_id)
    headers = token_header(connected_211.token, **RAW)
    async with connect_charger("CP-211") as station:
        uid = await available(station)

        # Pushed: the Location whole (the eMSP did not know it), in 2.1.1's form.
        async def pushed() -> bool:
            return "AVAILABLE" in legacy.statuses(site_id, uid)

        assert await eventually(pushed, timeout_s=20)
        sent = legacy.locations[str(site_id)]
        assert isinstance(sent, v211.Location)
        assert (sent.name, sent.city) == ("Koln Hbf", "Koln")
        assert sent.type == v211.LocationType.UNDERGROUND_GARAGE  # its parking type
        (connector,) = sent.evses[0].connectors
        assert connector.tariff_id == "AC-LEGACY"
        assert connector.voltage > 0 and connector.amperage > 0

        async with httpx.AsyncClient() as client:
            locations = await client.get(f"{connected_211.base}/locations", headers=headers)
            assert locations.status_code == 200, locations.text
            assert locations.headers["X-Total-Count"] == "1"
            assert "OCPI-from-party-id" not in locations.headers  # 2.1.1 has no hubs
            (pulled,) = [v211.Location.model_validate(each) for each in data_of(locations)]
            assert pulled.evses[0].status == v211.EvseStatus.AVAILABLE
            assert "country_code" not in data_of(locations)[0]
            # Stored in 2.2.1's form, sent in 2.1.1's.
            assert pulled.opening_times is not None
            assert len(pulled.opening_times.regular_hours) == 6
            assert pulled.energy_mix is not None
            assert pulled.energy_mix.supplier_name == "Grunstrom"
            assert pulled.energy_mix.environ_impact[0].source.value == "CARBON_DIOXIDE"
            one = f"{connected_211.base}/locations/{site_id}/{uid}/1"
            single = await client.get(one, headers=headers)
            assert v211.Connector.model_validate(data_of(single)).id == "1"
            missing = await client.get(f"{connected_211.base}/locations/999999", headers=headers)
            assert (missing.status_code, missing.json()["status_code"]) == (404, 2003)

            tariffs = await client.get(f"{connected_211.base}/tariffs", headers=headers)
            (tariff,) = data_of(tariffs)
            v211.Tariff.model_validate(tariff)
            # Excluding VAT only, and no minimum price: 2.1.1 has no field for either.
            component = tariff["elements"][0]["price_components"][0]
            assert component == {"type": "ENERGY", "price": 0.39, "step_size": 1}
            assert "min_price" not in tariff

        # The tariff is pushed too, in 2.1.1's form.
        async def tariff_pushed() -> bool:
            return "AC-LEGACY" in legacy.tariffs

        assert await eventually(tariff_pushed, timeout_s=20)
        assert isinstance(legacy.tariffs["AC-LEGACY"], v211.Tariff)
        assert "AA-RESERVING" not in legacy.tariffs
        row = await Partner.select(Partner.push_error, Partner.pushed_tariffs).first()
        assert row is not None and row["push_error"] is None, row
        pushed = row["pushed_tariffs"]
        assert "AA-RESERVING" in (json.loads(pushed) if isinstance(pushed, str) else pushed)

        # A status change is PATCHed (the eMSP checks it carries no hub routing headers).
        await status(station, 1, "Charging")

        async def charging() -> bool:
            return legacy.statuses(site_id, uid)[-1:] == ["CHARGING"]

        assert await eventually(charging, timeout_s=20)
        patched = [path for path, body in legacy.evse_updates if "put" not in body]
        assert patched, legacy.evse_updates


def a_211_token(**changes) -> dict:
    return {
        "uid": UID,
        "type": "RFID",
        "auth_id": "NL-TNM-C12345678-X",
        "visual_number": "TNM 1234",
        "issuer": "Test Mobility",
        "valid": True,
        "whitelist": "ALWAYS",
        "last_updated": "2026-12-01T10:00:00Z",
        **changes,
    }


async def test_a_211_partners_driver_charges_and_the_partner_is_told_in_211(
    live_server, cpo, connected_211, register, connect_charger
):
    legacy = connected_211.emsp
    tariff = Tariff(organization=cpo, **TARIFFS[0])
    await tariff.save()
    await assign(cpo, tariff.id)
    site_id = await add_site(cpo, "Roaming 2.1.1")
    await register("CP-211-SES")
    await place("CP-211-SES", site_id)
    headers = token_header(connected_211.token, **RAW)
    url = f"{connected_211.base}/tokens/NL/TNM/{UID}"
    async with httpx.AsyncClient() as client:
        # Its tokens, in 2.1.1's form; one that is not (2.2.1's contract_id) changes nothing.
        wrong = {k: v for k, v in a_211_token().items() if k != "auth_id"} | {"contract_id": "X"}
        refused = await client.put(url, json=wrong, headers=headers)
        assert refused.json()["status_code"] == 2001
        other_uid = await client.put(url, json=a_211_token(uid="OTHER"), headers=headers)
        assert other_uid.json()["status_code"] == 2001
        assert (await client.get(url, headers=headers)).status_code == 404
        put = await client.put(url, json=a_211_token(), headers=headers)
        assert put.status_code == 200, put.text
        got = await client.get(url, headers=headers)
        read = v211.Token.model_validate(data_of(got))
        assert read.auth_id == "NL-TNM-C12345678-X"

    # Tokens it wants to be asked about: asked in real time, its 2.1.1 answers followed.
    asked = {"04FFEEDDCCBBAA": "ALLOWED", "04FFEEDDCCBB00": "BLOCKED"}
    async with httpx.AsyncClient() as client:
        for uid, answer in asked.items():
            legacy.tokens[uid] = a_211_token(uid=uid, whitelist="NEVER")
            legacy.answers[uid] = answer
            put = await client.put(url.replace(UID, uid), json=legacy.tokens[uid], headers=headers)
            assert put.status_code == 200, put.text

    async with connect_charger("CP-211-SES") as station:
        await available(station)
        assert await authorize(station, "04FFEEDDCCBBAA") == "Accepted"
        assert await authorize(station, "04FFEEDDCCBB00") == "Blocked"
        assert [uid for uid, _, _ in legacy.asked] == list(asked)
        await charge(station, 20000, "2026-11-23")

        async def told() -> bool:
            # Its end, once priced (a session may be told it ended before billing priced it).
            shown = list(legacy.sessions.values())
            done = bool(shown) and shown[0].status.value == "COMPLETED"
            return done and shown[0].total_cost is not None and bool(legacy.cdrs)

        assert await eventually(told, timeout_s=20)
    (session,) = legacy.sessions.values()
    assert isinstance(session, v211.Session)
    assert session.auth_id == "NL-TNM-C12345678-X" and session.kwh == 20.0
    assert session.total_cost == 7.8  # 20 kWh x 0.39, excluding VAT
    assert session.location.id == str(site_id)
    assert [len(each.connectors) for each in session.location.evses] == [1]
    (cdr,) = legacy.cdrs
    assert isinstance(cdr, v211.Cdr)
    assert (cdr.total_cost, cdr.total_energy, cdr.auth_id) == (7.8, 20.0, "NL-TNM-C12345678-X")
    assert cdr.location.evses[0].connectors[0].voltage == 400
    assert cdr.tariffs and cdr.tariffs[0].id == "DEMO-AC-STANDARD"

    async with httpx.AsyncClient() as client:
        sessions = await client.get(f"{connected_211.base}/sessions", headers=headers)
        (pulled,) = [v211.Session.model_validate(each) for each in data_of(sessions)]
        assert pulled.id == session.id and pulled.location.id == str(site_id)
        cdrs = await client.get(f"{connected_211.base}/cdrs", headers=headers)
        (pulled_cdr,) = [v211.Cdr.model_validate(each) for each in data_of(cdrs)]
        assert pulled_cdr.id == cdr.id


async def test_a_211_partner_starts_stops_and_unlocks_at_a_station(
    live_server, cpo, connected_211, register, connect_charger
):
    legacy = connected_211.emsp
    site_id = await add_site(cpo, "Commands 2.1.1")
    await register("CP-211-CMD")
    await place("CP-211-CMD", site_id)
    headers = token_header(connected_211.token, **RAW)

    async def send(client: httpx.AsyncClient, command: str, body: dict) -> httpx.Response:
        url = f"{connected_211.base}/commands/{command}"
        return await client.post(url, json=body, headers=headers)

    async def told(ref: str) -> bool:
        return ref in legacy.results

    async with connect_charger("CP-211-CMD", client_class=Charger) as station:
        uid = await available(station)
        async with httpx.AsyncClient() as client:
            start = {
                "response_url": legacy.result_url("start"),
                "token": a_211_token(whitelist="NEVER"),
                "location_id": str(site_id),
                "evse_uid": str(uid),
            }
            answer = await send(client, "START_SESSION", start)
            assert answer.status_code == 200, answer.text
            # 2.1.1's answer and result are both a CommandResponse: no timeout, no message.
            assert data_of(answer) == {"result": "ACCEPTED"}
            assert await eventually(lambda: told("start"))
            assert legacy.results["start"] == v211.CommandResponse(result="ACCEPTED")
            assert station.received[-1] == (
                "RemoteStartTransaction",
                {"id_tag": UID, "connector_id": 1},
            )
            # The token is the partner's own (2.1.1 Tokens name no party), kept as such.
            stored = await IdToken.select(IdToken.issued_as).where(IdToken.uid == UID).first()
            assert stored is not None
            issued = stored["issued_as"]
            issued = json.loads(issued) if isinstance(issued, str) else issued
            assert (issued["country_code"], issued["party_id"]) == ("NL", "TNM")
            started = await station.call(
                call16.StartTransaction(connector_id=1, id_tag=UID, meter_start=0, timestamp=now())
            )
            assert started.id_tag_info["status"] == "Accepted"
            session = await ChargingSession.select(ChargingSession.id).first()
            assert session is not None

            stop = {"response_url": legacy.result_url("stop"), "session_id": str(session["id"])}
            assert data_of(await send(client, "STOP_SESSION", stop)) == {"result": "ACCEPTED"}
            assert await eventually(lambda: told("stop"))
            assert station.received[-1][0] == "RemoteStopTransaction"

            unlock = {
                "response_url": legacy.result_url("unlock"),
                "location_id": str(site_id),
                "evse_uid": str(uid),
                "connector_id": "1",
            }
            assert data_of(await send(client, "UNLOCK_CONNECTOR", unlock))["result"] == "ACCEPTED"
            assert await eventually(lambda: told("unlock"))

            # Refused at once, nothing sent; 2.1.1 has no CANCEL_RESERVATION.
            unknown = {"response_url": legacy.result_url("x"), "session_id": "999999"}
            assert data_of(await send(client, "STOP_SESSION", unknown)) == {
                "result": "UNKNOWN_SESSION"
            }
            nowhere = start | {"location_id": "999999"}
            assert data_of(await send(client, "START_SESSION", nowhere)) == {"result": "REJECTED"}
            cancel = {"response_url": legacy.result_url("x"), "reservation_id": "1"}
            missing = await send(client, "CANCEL_RESERVATION", cancel)
            assert missing.status_code == 404
            bad = await send(client, "START_SESSION", {"token": a_211_token()})
            assert bad.json()["status_code"] == 2001


def test_a_token_sent_in_one_version_is_given_back_in_the_other():
    """A partner that moves from one version to the other reads its tokens in the new one."""
    from ocpi.v211 import tokens as tokens211
    from ocpi.v221 import tokens as tokens221
    from ocpi.v221.models import Token

    sent_in_221 = Token.model_validate(
        {
            "country_code": "NL",
            "party_id": "TNM",
            "uid": "APP-1",
            "type": "APP_USER",
            "contract_id": "NL-TNM-C1",
            "group_id": "FLEET",
            "issuer": "Test Mobility",
            "valid": True,
            "whitelist": "ALLOWED",
            "last_updated": "2026-12-01T10:00:00Z",
        }
    )
    kept = tokens221.as_received(1, sent_in_221, "NL", "TNM").issued_as
    as_211 = v211.Token.model_validate(tokens211.given_back(kept))
    assert (as_211.auth_id, as_211.type) == ("NL-TNM-C1", v211.TokenType.OTHER)
    assert "country_code" not in tokens211.given_back(kept)

    sent_in_211 = v211.Token.model_validate(
        {
            "uid": "CARD-1",
            "type": "RFID",
            "auth_id": "NL-TNM-A1",
            "issuer": "Test Mobility",
            "valid": True,
            "whitelist": "ALWAYS",
            "last_updated": "2026-12-01T10:00:00Z",
        }
    )
    kept = tokens211.as_received(1, sent_in_211, "nl", "tnm").issued_as
    as_221 = Token.model_validate(tokens221.given_back(kept))
    assert (as_221.contract_id, as_221.country_code, as_221.party_id) == ("NL-TNM-A1", "NL", "TNM")
    assert tokens211.given_back(kept) == sent_in_211.model_dump(mode="json", exclude_none=True)
