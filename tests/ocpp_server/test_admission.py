"""The admission gate: a node admits so many connections at once and turns away, before any
database work, one that waited too long for its turn."""

import asyncio

from ocpp_server.admission import AdmissionGate


async def test_a_connection_waiting_too_long_is_turned_away_and_the_next_gets_in():
    gate = AdmissionGate(limit=1, patience_s=0.05)
    async with gate.turn() as first:
        assert first
        async with gate.turn() as second:
            assert not second  # the first still holds the only turn
    async with gate.turn() as third:
        assert third  # the first's turn was given back


async def test_waiting_connections_get_their_turn_when_one_is_given_back():
    gate = AdmissionGate(limit=2, patience_s=1)
    inside = 0
    most = 0

    async def connect() -> bool:
        nonlocal inside, most
        async with gate.turn() as ours:
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.01)
            inside -= 1
            return ours

    assert all(await asyncio.gather(*(connect() for _ in range(10))))
    assert most == 2
