"""The message log loses no frame for another's sake: a NUL, a row the database refuses and a
database outage each cost at most the frames concerned, and every frame left out is counted."""

import json
from datetime import timedelta

import pytest
from ocpp.v16 import call

from app import metrics
from app.stations.registration import register_station
from db.tables import OcppMessageLog, Organization
from ocpp_server import message_log as module
from ocpp_server.message_log import MessageLog


def dropped_total() -> float:
    return metrics.MESSAGE_LOG_DROPPED._value.get()


async def logged(identity: str) -> list[str]:
    rows = await (
        OcppMessageLog.select(OcppMessageLog.frame)
        .where(OcppMessageLog.identity == identity)
        .order_by(OcppMessageLog.id)
    )
    return [row["frame"] for row in rows]


async def test_a_nul_in_one_stations_frame_costs_no_other_stations_frames(
    live_server, register, connect_charger, unit_of_work
):
    await register("CP-NUL")
    await Organization.insert(Organization(name="Other", slug="other-tenant"))
    await register_station(unit_of_work(), "CP-OTHER", "other-tenant")
    message_log = live_server.app.state.ocpp.message_log
    await message_log.flush()
    before = dropped_total()
    async with connect_charger("CP-NUL") as nul, connect_charger("CP-OTHER") as other:
        # The raw character, not the escape: valid JSON text that PostgreSQL cannot store.
        await nul._connection.send('[2,"n-1","DataTransfer",{"vendorId":"ACME\x00"}]')
        for _ in range(20):
            await other.call(call.Heartbeat())
        await message_log.flush()
    [frame] = [f for f in await logged("CP-NUL") if '"n-1"' in f]
    assert json.loads(frame)[3]["vendorId"] == "ACME\ufffd"
    assert sum('"Heartbeat"' in f for f in await logged("CP-OTHER")) == 20
    assert dropped_total() == before


@pytest.fixture
def message_log(database, clean_db) -> MessageLog:
    return MessageLog(timedelta(days=1))


def frames(log: MessageLog, identity: str, count: int) -> None:
    for n in range(count):
        log.record(None, identity, "in", json.dumps([2, f"m-{n}", "Heartbeat", {}]))


async def test_a_frame_the_database_refuses_is_left_out_alone_and_counted(message_log, monkeypatch):
    write = MessageLog._write

    async def refusing(rows):
        if any(row[6] == "POISON" for row in rows):
            raise ValueError("the database refuses this row")
        await write(rows)

    monkeypatch.setattr(message_log, "_write", refusing)
    frames(message_log, "CP-A", 30)
    message_log.record(None, "CP-B", "in", "POISON")
    frames(message_log, "CP-C", 30)
    before = dropped_total()
    await message_log.flush()
    assert (len(await logged("CP-A")), len(await logged("CP-C"))) == (30, 30)
    assert await logged("CP-B") == []
    assert (message_log.dropped, dropped_total() - before) == (1, 1)


async def test_frames_wait_for_the_database_and_the_oldest_go_first_when_full(
    message_log, monkeypatch
):
    write = MessageLog._write
    away = True

    async def maybe_away(rows):
        if away:
            raise ConnectionRefusedError("the database is away")
        await write(rows)

    monkeypatch.setattr(message_log, "_write", maybe_away)
    monkeypatch.setattr(module, "MAX_BUFFERED", 50)
    frames(message_log, "CP-WAIT", 40)
    await message_log.flush()
    await message_log.flush()  # still away: nothing lost
    assert message_log.dropped == 0
    for n in range(40, 60):  # ten more than the buffer holds
        message_log.record(None, "CP-WAIT", "in", json.dumps([2, f"m-{n}", "Heartbeat", {}]))
    away = False
    await message_log.flush()
    kept = [json.loads(frame)[1] for frame in await logged("CP-WAIT")]
    assert kept == [f"m-{n}" for n in range(10, 60)]  # m-0 … m-9 were the oldest
    assert message_log.dropped == 10
