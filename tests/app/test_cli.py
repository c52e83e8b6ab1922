"""Provisioning from scripts: `cpms station add` and `cpms token add` on the test database."""

import os
import subprocess
import sys

from app.auth.passwords import verify_password
from db.tables import ChargingStation, IdToken, User


def cpms(settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CPMS_DATABASE_URL": settings.database_url}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_station_add_registers_with_a_hashed_password(settings, organization):
    result = cpms(
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

    again = cpms(settings, "station", "add", "CP-CLI", "--organization", "acme")
    assert again.returncode == 1
    assert again.stderr.strip().endswith("Error: station 'CP-CLI' already exists")


async def test_token_add_links_a_user(settings, organization):
    await User.insert(User(organization=organization, email="ann@acme.example", role="driver"))
    result = cpms(
        settings, "token", "add", "04AA11", "--organization", "acme", "--user", "ann@acme.example"
    )
    assert result.returncode == 0, result.stderr
    token = await IdToken.select(IdToken.uid, IdToken.user.email).first()
    assert token == {"uid": "04AA11", "user.email": "ann@acme.example"}

    unknown = cpms(settings, "token", "add", "X", "--organization", "nope")
    assert unknown.returncode == 1 and "no organization 'nope'" in unknown.stderr
