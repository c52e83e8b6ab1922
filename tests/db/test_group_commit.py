"""Group commit on PostgreSQL: many writers share commits; a bad write fails only its sender.
Grouped reads: concurrent lookups share queries."""

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from piccolo.engine.postgres import PostgresEngine

from app.sessions.repository import ActiveSessionsOnEvse, SessionsByTransaction
from app.timeparse import utcnow
from db.engine import configured_engine
from db.group_commit import GroupCommit, MeterWrite, SampleRow, StatusWrite, one_statement
from db.tables import (
    ChargingSession,
    ChargingStation,
    Connector,
    Evse,
    MeterSample,
    Organization,
    StatusChange,
)


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


async def running_sessions(rows: list[tuple[int, int]]) -> None:
    """One active session per connector (EVSE numbers 1..n), plus an ended one on EVSE 1."""
    evses = await Evse.select(Evse.id, Evse.evse_id).order_by(Evse.evse_id)
    organization = (await Organization.select(Organization.id).first() or {})["id"]
    for (station_id, connector_row), evse in zip(rows, evses, strict=True):
        await ChargingSession.insert(
            ChargingSession(
                organization=organization,
                station=station_id,
                evse=evse["id"],
                connector=connector_row,
                transaction_id=f"TX-{evse['evse_id']}",
                state="active",
                started_at=utcnow(),
            )
        )
    await ChargingSession.insert(
        ChargingSession(
            organization=organization,
            station=rows[0][0],
            evse=evses[0]["id"],
            transaction_id="TX-OLD",
            state="completed",
            started_at=utcnow() - timedelta(hours=1),
        )
    )


async def test_concurrent_lookups_share_queries(grouped):
    rows = await connectors(20)
    await running_sessions(rows)
    station_id = rows[0][0]
    lookups = [grouped.reads.fetch(ActiveSessionsOnEvse, (station_id, n)) for n in range(1, 21)]
    lookups.append(grouped.reads.fetch(ActiveSessionsOnEvse, (station_id, 99)))  # none there
    lookups.append(grouped.reads.fetch(SessionsByTransaction, (station_id, "TX-OLD")))
    found = await asyncio.gather(*lookups)
    assert [s.transaction_id for s in found[:20]] == [f"TX-{n}" for n in range(1, 21)]
    assert found[20] is None
    assert (found[21].transaction_id, found[21].state) == ("TX-OLD", "completed")
    assert grouped.reads.lookups == 22
    assert grouped.reads.queries < 22  # shared, not one query each


async def test_a_failed_lookup_fails_its_readers_and_the_next_ones_work(grouped):
    rows = await connectors(1)
    await running_sessions(rows)

    class Broken:
        @staticmethod
        async def read_many(connection, keys):
            await connection.fetch("SELECT no_such_column FROM evse")

    with pytest.raises(Exception, match="no_such_column"):
        await grouped.reads.fetch(Broken, 1)
    session = await grouped.reads.fetch(ActiveSessionsOnEvse, (rows[0][0], 1))
    assert session.transaction_id == "TX-1"


def test_statements_combine_into_one_with_renumbered_arguments():
    sql, arguments = one_statement(
        [("UPDATE a SET x = $1 WHERE id = $2", [1, 2]), ("INSERT INTO b SELECT $1", [3])]
    )
    assert sql == (
        "WITH w0 AS (UPDATE a SET x = $1 WHERE id = $2), w1 AS (INSERT INTO b SELECT $3) SELECT 1"
    )
    assert arguments == [1, 2, 3]


async def test_statuses_and_meter_values_share_one_statement(grouped):
    rows = await connectors(2)
    (station_id, first), (_, second) = rows
    sample: SampleRow = (
        None,
        station_id,
        second,
        utcnow(),
        "Energy.Active.Import.Register",
        None,
        None,
        "Wh",
        None,
        Decimal("1234.5"),
        None,
        None,
        None,
        None,
    )
    await asyncio.gather(
        grouped.submit(status(station_id, first, "Charging")),
        grouped.submit(status(station_id, None, "Available")),
        grouped.submit(MeterWrite(samples=(sample,))),
    )
    assert grouped.writes == 3
    assert [r["status"] for r in await Connector.select().order_by(Connector.id)] == [
        "Charging",
        "Unknown",
    ]
    assert (await ChargingStation.select().first() or {})["status"] == "Available"
    assert [r["value"] for r in await MeterSample.select()] == [Decimal("1234.5")]
