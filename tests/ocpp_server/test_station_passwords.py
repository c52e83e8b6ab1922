"""Station passwords are checked with a fast keyed hash; one kept with scrypt by an earlier
version still works and is moved to the fast hash on its next connection."""

import pytest
from websockets.exceptions import InvalidStatus

from app.auth.passwords import STATION_SCHEME, hash_password, verify_password
from db.tables import ChargingStation
from tests.conftest import charger

PASSWORD = "a-machine-made-password-0123456789"


async def stored_hash(identity: str) -> str:
    row = await (
        ChargingStation.select(ChargingStation.password_hash)
        .where(ChargingStation.identity == identity)
        .first()
    )
    assert row is not None
    return str(row["password_hash"])


async def test_a_new_station_password_is_kept_with_the_fast_hash(live_server, register):
    await register("CP-FAST", password=PASSWORD, profile=1)
    assert (await stored_hash("CP-FAST")).startswith(STATION_SCHEME + "$")
    async with charger(live_server, "CP-FAST", password=PASSWORD):
        pass
    with pytest.raises(InvalidStatus):
        async with charger(live_server, "CP-FAST", password=PASSWORD + "x"):
            pass


async def test_a_scrypt_password_moves_to_the_fast_hash_on_its_next_connection(
    live_server, register
):
    await register("CP-OLD", password=PASSWORD, profile=1)
    legacy = hash_password(PASSWORD)
    await ChargingStation.update({ChargingStation.password_hash: legacy}).where(
        ChargingStation.identity == "CP-OLD"
    )
    with pytest.raises(InvalidStatus):  # a wrong password changes nothing
        async with charger(live_server, "CP-OLD", password="not-the-password-at-all"):
            pass
    assert await stored_hash("CP-OLD") == legacy
    async with charger(live_server, "CP-OLD", password=PASSWORD):
        pass
    moved = await stored_hash("CP-OLD")
    assert moved.startswith(STATION_SCHEME + "$") and verify_password(PASSWORD, moved)
    async with charger(live_server, "CP-OLD", password=PASSWORD):  # and it still gets in
        pass
