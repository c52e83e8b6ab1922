"""Provisioning from scripts: `cpms station add` and `cpms token add` on the test database."""

import asyncio
import os
import subprocess
import sys

import pytest

from app.auth.passwords import verify_password
from db.tables import ChargingStation, IdToken, User

COMMAND_TIMEOUT_S = 60


async def cpms(settings, *args: str) -> subprocess.CompletedProcess[str]:
    """The command as a script runs it: no terminal on stdin. Awaited, not run blocking: a
    blocked event loop would stall the test process's own database work mid-transaction (a
    live server's background writers), and on SQLite the command would then wait on its lock."""
    env = {**os.environ, "CPMS_DATABASE_URL": settings.database_url}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        *args,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(COMMAND_TIMEOUT_S):
            stdout, stderr = await process.communicate()
    except TimeoutError:  # say what it was doing, not only that it hung
        process.kill()
        _, stderr = await process.communicate()
        raise AssertionError(f"cpms {' '.join(args)} hung; it wrote:\n{stderr.decode()}") from None
    assert process.returncode is not None
    return subprocess.CompletedProcess(
        [sys.executable, "-m", "app.cli", *args],
        process.returncode,
        stdout.decode(),
        stderr.decode(),
    )


async def test_station_add_registers_with_a_hashed_password(settings, organization):
    result = await cpms(
        settings,
        "station",
        "add",
        "CP-CLI",
        "--organization",
        "acme",
        "--password",
        "s3cret-s3cret-16",
    )
    assert result.returncode == 0, result.stderr
    assert "station CP-CLI added" in result.stdout
    row = await ChargingStation.select().where(ChargingStation.identity == "CP-CLI").first()
    assert row["security_profile"] == 1 and row["registration_status"] == "Accepted"
    assert verify_password("s3cret-s3cret-16", row["password_hash"])

    again = await cpms(settings, "station", "add", "CP-CLI", "--organization", "acme")
    assert again.returncode == 1
    assert again.stderr.strip().endswith("Error: station 'CP-CLI' already exists")


async def test_token_add_links_a_user(settings, organization):
    await User.insert(User(organization=organization, email="ann@acme.example", role="driver"))
    result = await cpms(
        settings, "token", "add", "04AA11", "--organization", "acme", "--user", "ann@acme.example"
    )
    assert result.returncode == 0, result.stderr
    token = await IdToken.select(IdToken.uid, IdToken.user.email).first()
    assert token == {"uid": "04AA11", "user.email": "ann@acme.example"}

    unknown = await cpms(settings, "token", "add", "X", "--organization", "nope")
    assert unknown.returncode == 1 and "no organization 'nope'" in unknown.stderr


async def test_station_add_generates_a_password_by_the_api_rules(settings, organization):
    result = await cpms(settings, "station", "add", "CP-GEN", "--organization", "acme")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "station CP-GEN added (id 1, security profile 1)"
    secret = lines[1].removeprefix("password: ")
    assert lines[1].startswith("password: ") and 16 <= len(secret) <= 40
    row = await ChargingStation.select().where(ChargingStation.identity == "CP-GEN").first()
    assert row["security_profile"] == 1 and verify_password(secret, row["password_hash"])

    open_station = await cpms(
        settings, "station", "add", "CP-OPEN", "--organization", "acme", "--security-profile", "0"
    )
    assert open_station.returncode == 0, open_station.stderr
    assert "password:" not in open_station.stdout
    assert "security profile 0" in open_station.stdout


async def test_station_add_refuses_what_the_api_refuses(settings, organization):
    for args, message in (
        (["CP-SHORT", "--password", "x"], "16 to 40 characters"),
        (["A" * 30 + "/" + "B" * 29], "identity: 1 to 48"),
        (["CP-BOTH", "--security-profile", "0", "--password", "p" * 20], "without a password"),
    ):
        result = await cpms(settings, "station", "add", *args, "--organization", "acme")
        assert result.returncode == 1, args
        assert message in result.stderr.strip().splitlines()[-1], result.stderr
    assert await ChargingStation.count() == 0


async def test_organizations_from_the_command_line(settings, clean_db):
    added = await cpms(
        settings,
        "organization",
        "add",
        "volt",
        "--name",
        "Volt GmbH",
        "--country-code",
        "DE",
        "--party-id",
        "VLT",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("organization volt added")
    again = await cpms(settings, "organization", "add", "volt", "--name", "Volt")
    assert again.returncode == 1 and "already exists" in again.stderr
    bad = await cpms(settings, "organization", "add", "Bad Slug", "--name", "X")
    assert bad.returncode == 1 and "slug" in bad.stderr
    # With one organization, --organization may be left out.
    token = await cpms(settings, "token", "add", "04BB22")
    assert token.returncode == 0, token.stderr
    await cpms(settings, "organization", "add", "amp", "--name", "Amp", "--currency", "chf")
    listed = await cpms(settings, "organization", "list")
    assert listed.stdout.splitlines() == [
        "slug,name,currency,country_code,party_id,suspended",
        "volt,Volt GmbH,EUR,DE,VLT,no",
        "amp,Amp,CHF,,,no",
    ]
    ambiguous = await cpms(settings, "token", "add", "04CC33")
    assert ambiguous.returncode == 1 and "--organization" in ambiguous.stderr


async def test_user_add_without_a_terminal_asks_for_password_option(settings, organization):
    result = await cpms(settings, "user", "add", "x@acme.example", "--organization", "acme")
    assert result.returncode == 2
    assert "give --password" in result.stderr
    assert await User.count() == 0


async def test_a_platform_key_belongs_to_no_organization(settings, organization):
    both = await cpms(settings, "apikey", "add", "host", "--platform", "--organization", "acme")
    assert both.returncode == 2 and "drop --organization" in both.stderr
    platform = await cpms(settings, "apikey", "add", "host", "--platform")
    assert platform.returncode == 0, platform.stderr
    assert platform.stdout.startswith("cpms_pk_")


async def test_migrating_back_is_refused_while_a_server_uses_the_database(
    settings, live_server, organization
):
    if settings.is_sqlite:
        pytest.skip("PostgreSQL shows who is connected (runs in the PostgreSQL + Redis pass)")
    refused = await cpms(settings, "migrate", "--backwards", "all", "--yes")
    assert refused.returncode == 1
    assert "stop the servers first" in refused.stderr
    assert await ChargingStation.table_exists()
