"""Disconnects recorded in batches: each station offline with one event, in fewer
transactions than stations when they drop together, and none taken from another node."""

import asyncio

from app.events import StationConnectionChanged
from app.healing.service import OFFLINE_CHECK
from app.stations import repository
from app.stations.disconnects import DisconnectRecorder
from db.tables import ChargingStation, OutboxMessage

NODE = "node-here"


async def test_stations_dropping_together_are_written_together(register, unit_of_work, bus):
    stations = [await register(f"CP-DROP-{n:02d}") for n in range(40)]
    for station in stations:
        await repository.set_presence(station.id, connected=True, protocol="ocpp1.6", node_id=NODE)
    moved = stations[0]  # reconnected to another node before its old connection's goodbye
    await repository.set_presence(moved.id, connected=True, protocol="ocpp1.6", node_id="node-b")

    transactions = 0

    def counted_unit_of_work():
        nonlocal transactions
        transactions += 1
        return unit_of_work()

    recorder = DisconnectRecorder(counted_unit_of_work, NODE)
    await recorder.start()
    try:
        async with bus.subscribe(StationConnectionChanged) as events:
            await asyncio.gather(*(recorder.record(station) for station in stations))
            announced = {(await asyncio.wait_for(anext(events), 10)).identity for _ in stations[1:]}
    finally:
        await recorder.stop()

    assert transactions < len(stations)
    assert announced == {station.identity for station in stations[1:]}
    rows = await ChargingStation.select(ChargingStation.identity, ChargingStation.connected)
    connected = {row["identity"] for row in rows if row["connected"]}
    assert connected == {moved.identity}
    checks = await OutboxMessage.count().where(OutboxMessage.kind == OFFLINE_CHECK)
    assert checks == len(stations) - 1


async def test_a_failed_write_reaches_every_waiting_connection(register, unit_of_work, monkeypatch):
    station = await register("CP-DROP-FAIL")

    async def database_gone(station_ids, node_id):
        raise ConnectionError("the database went away")

    monkeypatch.setattr(repository, "clear_presence", database_gone)
    recorder = DisconnectRecorder(unit_of_work, NODE)
    await recorder.start()
    try:
        results = await asyncio.gather(
            recorder.record(station), recorder.record(station), return_exceptions=True
        )
    finally:
        await recorder.stop()
    assert [type(result) for result in results] == [ConnectionError, ConnectionError]
