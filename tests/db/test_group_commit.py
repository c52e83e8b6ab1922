"""Group commit on PostgreSQL: many writers share commits; a bad write fails only its sender."""

import asyncio

import pytest
from piccolo.engine.postgres import PostgresEngine

from app.timeparse import utcnow
from db.engine import configured_engine
from db.group_commit import GroupCommit, StatusWrite
from db.tables import ChargingStation, Connector, Evse, Organization, StatusChange


@pytest.fixture
async def grouped(clean_db):
    engine = configured_engine()
    if not isinstance(engine, PostgresEngine):
        pytest.skip("group commit is for PostgreSQL (runs in the PostgreSQL + Redis pass)")
    group_commit = GroupCommit(engine)
    await group_commit.start()
    yield group_commit
    await group_commit.stop()


async def connectors(count: int) -> list[tuple[int, int]]:
    organization = Organization(name="G", slug="g")
    await organization.save()
    station = ChargingStation(organization=organization.id, identity="CP-G")
    await station.save()
    rows = []
    for number in range(1, count + 1):
        evse = Evse(station=station.id, evse_id=number)
        await evse.save()
        connector = Connector(station=station.id, evse=evse.id, connector_id=1)
        await connector.save()
        rows.append((int(station.id), int(connector.id)))
    return rows


def status(station_id: int, connector_row: int | None, value: str) -> StatusWrite:
    now = utcnow()
    return StatusWrite(station_id, connector_row, value, None, None, None, now, now)


async def test_concurrent_writes_share_commits(grouped):
    rows = await connectors(50)
    await asyncio.gather(*(grouped.submit(status(s, c, "Charging")) for s, c in rows))
    assert grouped.writes == 50
    assert grouped.batches < 50  # shared, not one commit each
    assert await StatusChange.count() == 50
    statuses = await Connector.select(Connector.status)
    assert {row["status"] for row in statuses} == {"Charging"}


async def test_a_bad_write_fails_alone(grouped):
    rows = await connectors(3)
    good = [grouped.submit(status(s, c, "Available")) for s, c in rows]
    bad = grouped.submit(status(rows[0][0] + 999, None, "Faulted"))  # no such station
    results = await asyncio.gather(*good, bad, return_exceptions=True)
    assert results[:3] == [None, None, None]
    assert isinstance(results[3], Exception)
    assert await StatusChange.count() == 3
