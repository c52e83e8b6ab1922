"""A station that stays offline gets an alert; reconnecting resolves it."""

import asyncio

from app.stations import repository
from db.tables import Alert, ChargingStation, Organization
from tests.conftest import TEST_ORGANIZATION


async def alert_statuses() -> list[str]:
    rows = await Alert.select(Alert.status).where(Alert.kind == "station_offline")
    return [row["status"] for row in rows]


async def eventually(check, timeout_s: float = 8.0):
    for _ in range(int(timeout_s / 0.1)):
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.1)
    return await check()


async def test_an_offline_station_alerts_and_resolves_on_reconnect(
    live_server, organization, register, connect_charger
):
    await Organization.update(
        {Organization.settings: {"healing": {"offline_alert_after_s": 0}}}
    ).where(Organization.slug == TEST_ORGANIZATION)
    await register("CP-GONE")
    async with connect_charger("CP-GONE"):
        pass  # the connection drops
    assert await eventually(lambda: _opened())
    async with connect_charger("CP-GONE"):
        assert await alert_statuses() == ["resolved"]


async def _opened() -> bool:
    return await alert_statuses() == ["open"]


async def test_a_short_drop_raises_nothing(live_server, organization, register, connect_charger):
    await Organization.update(
        {Organization.settings: {"healing": {"offline_alert_after_s": 2}}}
    ).where(Organization.slug == TEST_ORGANIZATION)
    await register("CP-BLIP")
    async with connect_charger("CP-BLIP"):
        pass
    async with connect_charger("CP-BLIP"):  # back within the delay
        await asyncio.sleep(3.5)  # the check comes due and finds it connected
        assert await alert_statuses() == []


async def test_a_reconnect_during_the_old_connections_goodbye_reads_connected(
    live_server, organization, register, connect_charger, monkeypatch
):
    # The old connection's "offline" is slow to write (a busy database): the reconnect that
    # arrives meanwhile must not be marked offline by it.
    slow_clear = repository.clear_presence

    async def clear_presence_slowly(station_ids: list[int], node_id: str) -> list[int]:
        await asyncio.sleep(0.5)
        return await slow_clear(station_ids, node_id)

    monkeypatch.setattr(repository, "clear_presence", clear_presence_slowly)
    await register("CP-QUICK")
    async with connect_charger("CP-QUICK"):
        pass
    async with connect_charger("CP-QUICK"):
        await asyncio.sleep(1.0)  # the old connection's goodbye has been written by now
        row = await ChargingStation.select(ChargingStation.connected).where(
            ChargingStation.identity == "CP-QUICK"
        )
        assert row == [{"connected": True}]
