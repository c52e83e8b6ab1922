"""Bulk provisioning: `cpms station import`, `cpms token import` and `importStations`, each
line by the rules of one at a time, idempotent, with a report per line."""

import csv
import io

from ocpp.v16 import call

from app.auth.passwords import verify_password
from db.tables import ChargingStation, IdToken, Site, User
from tests.app.test_cli import cpms
from tests.conftest import graphql

IMPORT = """
mutation ($stations: [StationImportInput!]!) { importStations(stations: $stations) {
  __typename
  ... on StationsImported { created existing failed
    lines { line key outcome message password } }
  ... on UserError { code message } } }
"""


def report(stdout: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(stdout)))


async def test_station_import_creates_reports_and_changes_nothing_the_second_time(
    settings, organization, tmp_path
):
    await Site.insert(Site(organization=organization, name="Depot", time_zone="UTC"))
    lines = ["identity,site,password,security_profile"]
    lines += [f"BULK-{n:03d},,," for n in range(1, 48)]
    lines += [
        "BULK-OWN,Depot,my-own-password-1234,1",
        "BULK-OPEN,,,0",
        "bad/identity,,,",
        "BULK-SITE,Nowhere,,",
        "BULK-SHORT,,short,",
    ]
    file = tmp_path / "stations.csv"
    file.write_text("\n".join(lines) + "\n")

    first = await cpms(settings, "station", "import", str(file), "--organization", "acme")
    assert first.returncode == 1, first.stderr  # some lines failed; the others are in
    rows = report(first.stdout)
    assert [row["line"] for row in rows] == [str(n) for n in range(1, 53)]
    outcomes = {row["identity"]: row for row in rows}
    assert sum(row["outcome"] == "created" for row in rows) == 49
    assert outcomes["bad/identity"]["outcome"] == "failed"
    assert "identity" in outcomes["bad/identity"]["message"]
    assert outcomes["BULK-SITE"]["message"] == "no site 'Nowhere'"
    assert "16 to 40" in outcomes["BULK-SHORT"]["message"]
    assert outcomes["BULK-OWN"]["password"] == "" and outcomes["BULK-OPEN"]["password"] == ""
    generated = outcomes["BULK-001"]["password"]
    assert 16 <= len(generated) <= 40
    assert "49 created, 0 exists, 3 failed" in first.stderr
    stored = await ChargingStation.select().where(ChargingStation.identity == "BULK-001").first()
    assert stored["security_profile"] == 1 and verify_password(generated, stored["password_hash"])
    own = await ChargingStation.select().where(ChargingStation.identity == "BULK-OWN").first()
    assert own["site"] is not None and verify_password("my-own-password-1234", own["password_hash"])
    assert await ChargingStation.count() == 49

    again = await cpms(settings, "station", "import", str(file), "--organization", "acme")
    rows = report(again.stdout)
    assert sum(row["outcome"] == "exists" for row in rows) == 49
    assert all(row["password"] == "" for row in rows)
    assert await ChargingStation.count() == 49
    still = await ChargingStation.select().where(ChargingStation.identity == "BULK-001").first()
    assert still["password_hash"] == stored["password_hash"]


async def test_a_file_with_a_wrong_header_is_refused_whole(settings, organization, tmp_path):
    file = tmp_path / "stations.csv"
    file.write_text("id,site\nX-1,\n")
    result = await cpms(settings, "station", "import", str(file), "--organization", "acme")
    assert result.returncode == 1
    assert "the header is identity,site,password,security_profile" in result.stderr
    assert await ChargingStation.count() == 0


async def test_token_import(settings, organization, tmp_path):
    await User.insert(User(organization=organization, email="ann@acme.example", role="driver"))
    file = tmp_path / "tokens.csv"
    file.write_text(
        "uid,type,user,group\n"
        "04AA01,,ann@acme.example,FLEET\n"
        "EMAID-1,eMAID,,\n"
        "04AA03,Bogus,,\n"
        "04AA04,,bob@acme.example,\n" + "X" * 40 + ",,,\n"
    )
    first = await cpms(settings, "token", "import", str(file), "--organization", "acme")
    assert first.returncode == 1
    rows = report(first.stdout)
    assert [row["outcome"] for row in rows] == ["created", "created", "failed", "failed", "failed"]
    assert rows[3]["message"] == "no user 'bob@acme.example'"
    token = (
        await IdToken.select(IdToken.type, IdToken.group_id, IdToken.user.email)
        .where(IdToken.uid == "04AA01")
        .first()
    )
    assert token == {"type": "ISO14443", "group_id": "FLEET", "user.email": "ann@acme.example"}
    again = await cpms(settings, "token", "import", str(file), "--organization", "acme")
    assert [row["outcome"] for row in report(again.stdout)][:2] == ["exists", "exists"]
    assert await IdToken.count() == 2


async def test_import_stations_through_the_api_then_one_connects(
    live_server, organization, api_key, connect_charger
):
    admin = await api_key(role="admin")
    stations = [
        {"identity": "API-1"},
        {"identity": "API-2", "securityProfile": 0},
        {"identity": "a/b"},
    ]
    result = (await graphql(live_server, IMPORT, {"stations": stations}, admin))["data"]
    imported = result["importStations"]
    assert (imported["created"], imported["existing"], imported["failed"]) == (2, 0, 1)
    password = imported["lines"][0]["password"]
    assert imported["lines"][0]["outcome"] == "CREATED" and password
    assert imported["lines"][1]["password"] is None
    async with connect_charger("API-1", password=password) as station:
        boot = await station.call(
            call.BootNotification(charge_point_vendor="V", charge_point_model="M")
        )
    assert boot.status == "Accepted"
    again = (await graphql(live_server, IMPORT, {"stations": stations[:2]}, admin))["data"]
    assert again["importStations"]["existing"] == 2
    viewer = await api_key(role="viewer")
    denied = await graphql(live_server, IMPORT, {"stations": stations}, viewer)
    assert denied["data"]["importStations"]["__typename"] == "NotPermittedError"
