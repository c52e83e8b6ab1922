"""The OCPI 2.2.1 credentials handshake, both directions, against a real eMSP server."""

from __future__ import annotations

import json

import httpx

from db.tables import Partner
from ocpi.v221.models import Credentials, Envelope, VersionDetails
from tests.conftest import TEST_ORGANIZATION, graphql
from tests.ocpi.conftest import create_partner
from tests.ocpi.emsp import Emsp, data_of, token_header

REGISTER = """
mutation ($input: RegisterPartnerInput!) { registerPartner(input: $input) {
  __typename
  ... on PartnerRegistered { partner { id name status version roles versionsUrl
                                       endpoints { module role url } registeredAt } }
  ... on UserError { code message } } }
"""
PARTNERS = """
{ partners { totalCount edges { node { name status version roles versionsUrl
  endpoints { module role url } } } } }
"""


async def test_a_partner_registers_with_the_token_a_we_issued(live_server, cpo, api_key, emsp):
    admin = await api_key(TEST_ORGANIZATION, "admin")
    created = await create_partner(live_server, admin)
    assert created["__typename"] == "PartnerCreated", created
    assert created["versionsUrl"] == f"{live_server.http}/ocpi/versions"
    assert created["partner"]["status"] == "PENDING"
    token_a = created["tokenA"]

    ours = await emsp.register_with(created["versionsUrl"], token_a)
    # Before answering, the CPMS looked at our versions and details with our token B.
    looked = [(method, path) for method, path, token in emsp.calls if token == emsp.token_b]
    assert looked[:2] == [("GET", "/ocpi/versions"), ("GET", "/ocpi/2.2.1")]
    assert ours["roles"][0]["role"] == "CPO"
    assert (ours["roles"][0]["country_code"], ours["roles"][0]["party_id"]) == ("DE", "ACM")
    assert ours["roles"][0]["business_details"]["name"] == "Acme Charging"
    assert ours["url"] == created["versionsUrl"]
    token_c = ours["token"]
    assert token_c != token_a

    async with httpx.AsyncClient() as client:
        # Token A stops working; token C works, base64-encoded or (2.1.1 style) as it is.
        refused = await client.get(created["versionsUrl"], headers=token_header(token_a))
        assert refused.status_code == 401
        assert Envelope.model_validate(refused.json()).status_code == 2004
        for encoded in (True, False):
            read = await client.get(
                f"{live_server.http}/ocpi/2.2.1/credentials",
                headers=token_header(token_c, encoded=encoded),
            )
            assert read.status_code == 200
            assert Credentials.model_validate(data_of(read)).token == token_c
        # Registering again is not allowed: PUT updates.
        again = await client.post(
            f"{live_server.http}/ocpi/2.2.1/credentials",
            json=emsp.credentials("another-token-b"),
            headers=token_header(token_c),
        )
        assert again.status_code == 405
        assert Envelope.model_validate(again.json()).status_code == 2000

    listed = await graphql(live_server, PARTNERS, token=admin)
    partner = listed["data"]["partners"]["edges"][0]["node"]
    assert partner["status"] == "CONNECTED"
    assert partner["version"] == "2.2.1"
    assert partner["roles"] == ["EMSP"]
    assert partner["versionsUrl"] == f"{emsp.base}/versions"
    assert {"module": "locations", "role": "RECEIVER", "url": f"{emsp.base}/2.2.1/locations"} in (
        partner["endpoints"]
    )
    row = await Partner.select(Partner.outgoing_token).first()
    assert row is not None and row["outgoing_token"] == emsp.token_b


async def test_put_rotates_and_delete_unregisters(live_server, cpo, api_key, emsp):
    admin = await api_key(TEST_ORGANIZATION, "admin")
    created = await create_partner(live_server, admin)
    token_c = (await emsp.register_with(created["versionsUrl"], created["tokenA"]))["token"]
    url = f"{live_server.http}/ocpi/2.2.1/credentials"
    async with httpx.AsyncClient() as client:
        emsp.accepted = {"rotated-token-b"}
        rotated = await client.put(
            url, json=emsp.credentials("rotated-token-b"), headers=token_header(token_c)
        )
        assert rotated.status_code == 200, rotated.text
        new_c = Credentials.model_validate(data_of(rotated)).token
        assert new_c != token_c
        assert (await client.get(url, headers=token_header(token_c))).status_code == 401
        assert (await client.get(url, headers=token_header(new_c))).status_code == 200
        row = await Partner.select(Partner.outgoing_token).first()
        assert row is not None and row["outgoing_token"] == "rotated-token-b"

        deleted = await client.delete(url, headers=token_header(new_c))
        assert deleted.status_code == 200
        assert Envelope.model_validate(deleted.json()).status_code == 1000
        assert (await client.get(url, headers=token_header(new_c))).status_code == 401
    listed = await graphql(live_server, PARTNERS, token=admin)
    assert listed["data"]["partners"]["edges"][0]["node"]["status"] == "PENDING"
    row = await Partner.select(Partner.outgoing_token).first()
    assert row is not None and row["outgoing_token"] is None


async def test_a_token_a_opens_only_versions_and_credentials(live_server, cpo, api_key):
    admin = await api_key(TEST_ORGANIZATION, "admin")
    created = await create_partner(live_server, admin)
    async with httpx.AsyncClient() as client:
        headers = token_header(created["tokenA"])
        details = await client.get(f"{live_server.http}/ocpi/2.2.1", headers=headers)
        assert details.status_code == 200
        modules = VersionDetails.model_validate(data_of(details)).endpoints
        assert next((e.identifier, e.role.value) for e in modules) == ("credentials", "SENDER")
        # Reading or deleting credentials before registering is not allowed.
        read = await client.get(f"{live_server.http}/ocpi/2.2.1/credentials", headers=headers)
        assert read.status_code == 405
        put = await client.put(
            f"{live_server.http}/ocpi/2.2.1/credentials",
            json=Emsp().credentials("b"),
            headers=headers,
        )
        assert put.status_code == 405


async def test_bad_requests_get_the_ocpi_status_and_change_nothing(live_server, cpo, api_key, emsp):
    admin = await api_key(TEST_ORGANIZATION, "admin")
    created = await create_partner(live_server, admin)
    url = f"{live_server.http}/ocpi/2.2.1/credentials"
    headers = token_header(created["tokenA"])
    async with httpx.AsyncClient() as client:
        for bad_header in ({}, {"Authorization": "Bearer x"}, token_header("unknown-token")):
            answer = await client.get(f"{live_server.http}/ocpi/versions", headers=bad_header)
            assert answer.status_code == 401
            body = Envelope.model_validate(answer.json())
            assert body.status_code in (2000, 2004) and body.status_message
        not_json = await client.post(url, content=b"{not json", headers=headers)
        assert not_json.status_code == 400
        assert Envelope.model_validate(not_json.json()).status_code == 2001
        wrong = emsp.credentials("b") | {"roles": [{"role": "EMSP"}]}
        mistyped = await client.post(url, json=wrong, headers=headers)
        assert mistyped.status_code == 200
        assert Envelope.model_validate(mistyped.json()).status_code == 2001
        # A party that is not the one the token was issued to.
        other = emsp.credentials("b")
        other["roles"][0]["party_id"] = "XXX"
        answer = await client.post(url, json=other, headers=headers)
        assert Envelope.model_validate(answer.json()).status_code == 2001
        # Their versions cannot be read: 3001, and token A still works.
        down = emsp.credentials("b") | {"url": "http://127.0.0.1:1/ocpi/versions"}
        answer = await client.post(url, json=down, headers=headers)
        assert Envelope.model_validate(answer.json()).status_code == 3001
        # Request ids are echoed; one is made up when the caller sent none.
        ids = {"X-Request-ID": "req-1", "X-Correlation-ID": "corr-1"}
        answer = await client.get(f"{live_server.http}/ocpi/versions", headers=headers | ids)
        assert answer.headers["X-Request-ID"] == "req-1"
        assert answer.headers["X-Correlation-ID"] == "corr-1"
        answer = await client.get(f"{live_server.http}/ocpi/versions", headers=headers)
        assert answer.headers["X-Request-ID"]
        # A path that is no endpoint: an envelope with HTTP 404, and the request ids.
        answer = await client.get(f"{live_server.http}/ocpi/2.2.1/parking", headers=headers)
        assert answer.status_code == 404 and answer.headers["X-Request-ID"]
        assert Envelope.model_validate(answer.json()).status_code == 2000
    row = await Partner.select(Partner.status, Partner.outgoing_token).first()
    assert row == {"status": "pending", "outgoing_token": None}
    assert emsp.received_credentials == []


async def test_we_register_with_a_partner_that_gave_us_a_token_a(live_server, cpo, api_key, emsp):
    admin = await api_key(TEST_ORGANIZATION, "admin")
    given = {
        "name": "Test Mobility",
        "countryCode": "NL",
        "partyId": "TNM",
        "versionsUrl": f"{emsp.base}/versions",
        "tokenA": emsp.token_a,
    }
    result = await graphql(live_server, REGISTER, {"input": given}, admin)
    registered = result["data"]["registerPartner"]
    assert registered["__typename"] == "PartnerRegistered", registered
    partner = registered["partner"]
    assert (partner["status"], partner["version"], partner["roles"]) == (
        "CONNECTED",
        "2.2.1",
        ["EMSP"],
    )
    assert partner["registeredAt"]
    # What we sent is OCPI's Credentials; the eMSP could read our versions with token B.
    (sent,) = emsp.received_credentials
    assert (sent.roles[0].role.value, sent.roles[0].country_code) == ("CPO", "DE")
    assert sent.url == f"{live_server.http}/ocpi/versions"
    assert emsp.cpms_versions_checked == [200]
    # We keep the token C it answered with for our calls, and it calls us with token B.
    row = await Partner.select(Partner.outgoing_token).first()
    assert row is not None and row["outgoing_token"] in emsp.accepted
    async with httpx.AsyncClient() as client:
        read = await client.get(
            f"{live_server.http}/ocpi/2.2.1/credentials", headers=token_header(sent.token)
        )
    assert read.status_code == 200

    # The same party again is refused; a partner that does not answer leaves nothing behind.
    again = await graphql(live_server, REGISTER, {"input": given}, admin)
    assert again["data"]["registerPartner"]["code"] == "already_exists"
    down = given | {"partyId": "DWN", "versionsUrl": "http://127.0.0.1:1/ocpi/versions"}
    failed = await graphql(live_server, REGISTER, {"input": down}, admin)
    assert failed["data"]["registerPartner"]["__typename"] == "PartnerError"
    assert failed["data"]["registerPartner"]["code"] == "partner_unreachable"
    wrong_token = given | {"partyId": "WRG", "tokenA": "not-their-token"}
    failed = await graphql(live_server, REGISTER, {"input": wrong_token}, admin)
    assert failed["data"]["registerPartner"]["code"] == "partner_unreachable"
    assert await Partner.count() == 1


async def test_only_admins_connect_partners(live_server, cpo, api_key):
    viewer = await api_key(TEST_ORGANIZATION, "viewer")
    created = await create_partner(live_server, viewer)
    assert created["__typename"] == "NotPermittedError"
    admin = await api_key(TEST_ORGANIZATION, "admin")
    bad = await create_partner(live_server, admin, countryCode="Germany")
    assert bad["code"] == "invalid_input"
    assert bad["message"].startswith("countryCode")


async def test_partner_add_prints_what_the_partner_needs(
    live_server, settings, cpo, emsp, monkeypatch
):
    from tests.app.test_cli import cpms

    monkeypatch.setenv("CPMS_PUBLIC_URL", live_server.http)
    result = await cpms(
        settings,
        "partner",
        "add",
        "Test Mobility",
        "--country-code",
        "nl",
        "--party-id",
        "tnm",
        "--organization",
        TEST_ORGANIZATION,
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["versions_url"] == f"{live_server.http}/ocpi/versions"
    assert printed["id"]
    ours = await emsp.register_with(printed["versions_url"], printed["token_a"])
    assert ours["roles"][0]["party_id"] == "ACM"
    row = await Partner.select(Partner.country_code, Partner.party_id, Partner.status).first()
    assert row == {"country_code": "NL", "party_id": "TNM", "status": "connected"}


SUSPEND = """
mutation ($id: ID!) { suspendPartner(id: $id) {
  __typename ... on PartnerSaved { partner { status } } ... on UserError { code } } }
"""
RESUME = """
mutation ($id: ID!) { resumePartner(id: $id) {
  __typename ... on PartnerSaved { partner { status } } ... on UserError { code } } }
"""


async def test_a_suspended_partner_is_refused_until_resumed(live_server, cpo, api_key, emsp):
    admin = await api_key(TEST_ORGANIZATION, "admin")
    created = await create_partner(live_server, admin)
    partner_id = created["partner"]["id"]
    token_c = (await emsp.register_with(created["versionsUrl"], created["tokenA"]))["token"]
    url = f"{live_server.http}/ocpi/2.2.1/credentials"
    async with httpx.AsyncClient() as client:
        suspended = await graphql(live_server, SUSPEND, {"id": partner_id}, admin)
        assert suspended["data"]["suspendPartner"]["partner"]["status"] == "SUSPENDED"
        assert (await client.get(url, headers=token_header(token_c))).status_code == 401
        resumed = await graphql(live_server, RESUME, {"id": partner_id}, admin)
        assert resumed["data"]["resumePartner"]["partner"]["status"] == "CONNECTED"
        assert (await client.get(url, headers=token_header(token_c))).status_code == 200
    viewer = await api_key(TEST_ORGANIZATION, "viewer")
    refused = await graphql(live_server, SUSPEND, {"id": partner_id}, viewer)
    assert refused["data"]["suspendPartner"]["__typename"] == "NotPermittedError"
    other = await graphql(live_server, SUSPEND, {"id": "UGFydG5lcjo5OTk5"}, admin)  # Partner:9999
    assert other["data"]["suspendPartner"]["code"] == "not_found"


DELETE = """
mutation ($id: ID!) { deletePartner(id: $id) {
  __typename ... on PartnerDeleted { partner { name } } ... on UserError { code } } }
"""
UPDATE = """
mutation ($id: ID!, $input: UpdatePartnerInput!) { updatePartner(id: $id, input: $input) {
  __typename ... on PartnerSaved { partner { name } } ... on UserError { code message } } }
"""


async def test_deleting_a_partner_tells_it_and_ends_its_tokens(
    live_server, connected, api_key, register, connect_charger
):
    from ocpp.v16 import call as call16

    from db.tables import IdToken
    from tests.ocpi.test_tokens import UID, a_token
    from tests.ocpp_server.test_commands import booted

    admin = await api_key(TEST_ORGANIZATION, "admin")
    renamed = await graphql(
        live_server, UPDATE, {"id": connected.partner_id, "input": {"name": "TNM"}}, admin
    )
    assert renamed["data"]["updatePartner"]["partner"]["name"] == "TNM"
    async with httpx.AsyncClient() as client:
        put = await client.put(
            f"{connected.base}/tokens/NL/TNM/{UID}",
            json=a_token(),
            headers=token_header(connected.token),
        )
        assert put.status_code == 200
    await register("CP-DEL")
    async with connect_charger("CP-DEL") as station:
        await booted(station, "ocpp1.6")
        before = await station.call(call16.Authorize(id_tag=UID))
        assert before.id_tag_info["status"] == "Accepted"
        deleted = await graphql(live_server, DELETE, {"id": connected.partner_id}, admin)
        assert deleted["data"]["deletePartner"]["partner"]["name"] == "TNM"
        after = await station.call(call16.Authorize(id_tag=UID))
        assert after.id_tag_info["status"] == "Invalid"
    assert connected.emsp.unregistered
    async with httpx.AsyncClient() as client:
        refused = await client.get(
            f"{connected.base}/credentials", headers=token_header(connected.token)
        )
    assert refused.status_code == 401
    assert await Partner.count() == 0 and await IdToken.count() == 0
    again = await graphql(live_server, DELETE, {"id": connected.partner_id}, admin)
    assert again["data"]["deletePartner"]["__typename"] == "NotFoundError"
