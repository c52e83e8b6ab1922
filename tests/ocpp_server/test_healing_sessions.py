"""Ghost and stuck sessions with real charge points, judged at a later moment (the watch takes
its clock as an argument) and handled step by step."""

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from app.healing import watch
from app.timeparse import utcnow
from db.tables import Alert, Cdr, ChargingSession
from tests.ocpp_server.test_commands import Station16, booted


class IdleStation(Station16):
    """Answers, but its session does not end by itself (the station lost track of it)."""

    @on(Action.trigger_message)
    def trigger(self, **payload: Any) -> call_result.TriggerMessage:
        self.received.append(("TriggerMessage", payload))
        return call_result.TriggerMessage(status="Accepted")

    @on(Action.remote_stop_transaction)
    def remote_stop(self, **payload: Any) -> call_result.RemoteStopTransaction:
        self.received.append(("RemoteStopTransaction", payload))
        return call_result.RemoteStopTransaction(status="Accepted")


def reading(at: datetime, wh: int, watts: int) -> dict:
    return {
        "timestamp": at.isoformat(),
        "sampledValue": [
            {"value": str(wh), "measurand": "Energy.Active.Import.Register"},
            {"value": str(watts), "measurand": "Power.Active.Import", "unit": "W"},
        ],
    }


async def start_idle_session(client, status: str) -> tuple[int, datetime]:
    start = utcnow()
    await client.call(call.StatusNotification(connector_id=1, error_code="NoError", status=status))
    started = await client.call(
        call.StartTransaction(
            connector_id=1, id_tag="04AA", meter_start=0, timestamp=start.isoformat()
        )
    )
    await client.call(
        call.MeterValues(
            connector_id=1,
            transaction_id=started.transaction_id,
            meter_value=[
                reading(start + timedelta(minutes=1), 5000, 0),
                reading(start + timedelta(minutes=19), 5000, 0),
            ],
        )
    )
    return started.transaction_id, start


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(watch, "CONFIRM_AFTER", timedelta(0))
    monkeypatch.setattr(watch, "CLOSE_AFTER", timedelta(0))


async def until(check, timeout_s: float = 10.0):
    for _ in range(int(timeout_s / 0.1)):
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.1)
    return await check()


async def test_a_ghost_session_is_confirmed_stopped_and_closed(
    quick, organization, register, connect_charger, unit_of_work
):
    await register("CP-GHOST")
    async with connect_charger("CP-GHOST", client_class=IdleStation) as client:
        await booted(client, "ocpp1.6")
        _, start = await start_idle_session(client, "Charging")
        assert await watch.check_sessions(unit_of_work, now=start + timedelta(minutes=20)) == 1

        async def closed() -> dict | None:
            row = await ChargingSession.select().first()
            return row if row and row["state"] == "completed" else None

        session = await until(closed)
        sent = [name for name, _ in client.received]
    assert sent == ["TriggerMessage", "TriggerMessage", "RemoteStopTransaction"]
    assert (session["stop_reason"], session["energy_wh"]) == ("GhostSession", 5000)
    assert session["ended_at"] == start + timedelta(minutes=19)  # its last meter value

    async def all_actions() -> list[dict] | None:
        # The last step is recorded just after the session is closed.
        alert = await Alert.select(Alert.actions).where(Alert.kind == "ghost_session").first()
        if alert is None:
            return None
        done = alert["actions"]
        done = done if isinstance(done, list) else json.loads(done)
        return done if len(done) == 4 else None

    actions = await until(all_actions)
    assert actions is not None
    assert [a["action"] for a in actions] == [
        "trigger_MeterValues",
        "trigger_StatusNotification",
        "remote_stop",
        "closed_by_cpms",
    ]
    assert await Cdr.count() == 1  # billed with the energy it had


async def test_a_paused_ev_is_no_ghost(organization, register, connect_charger, unit_of_work):
    await register("CP-PAUSE")
    async with connect_charger("CP-PAUSE", client_class=IdleStation) as client:
        await booted(client, "ocpp1.6")
        _, start = await start_idle_session(client, "SuspendedEV")
        assert await watch.check_sessions(unit_of_work, now=start + timedelta(minutes=20)) == 0


async def test_a_session_without_meter_values_is_flagged_stuck(
    organization, register, connect_charger, unit_of_work
):
    await register("CP-MUTE")
    async with connect_charger("CP-MUTE") as client:
        start = utcnow()
        await client.call(
            call.StartTransaction(
                connector_id=1, id_tag="04AA", meter_start=0, timestamp=start.isoformat()
            )
        )
    assert await watch.check_sessions(unit_of_work, now=start + timedelta(minutes=40)) == 1
    alert = await Alert.select(Alert.kind, Alert.status).first()
    assert alert == {"kind": "stuck_session", "status": "open"}
    assert (await ChargingSession.select(ChargingSession.state).first()) == {"state": "active"}
