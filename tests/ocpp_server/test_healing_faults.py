"""Faults with real charge points: reset and cleared, safety faults only alerted, a fault
that keeps coming back given up on after the most attempts."""

import asyncio
import json

from ocpp.v16 import call
from ocpp.v201 import call as call201

from db.tables import Alert, CommandLog, Organization
from tests.conftest import TEST_ORGANIZATION
from tests.ocpp_server.test_commands import Station16, Station201, booted


def fault(code: str) -> call.StatusNotification:
    return call.StatusNotification(connector_id=1, error_code=code, status="Faulted")


AVAILABLE = call.StatusNotification(connector_id=1, error_code="NoError", status="Available")


async def until(check, timeout_s: float = 10.0):
    for _ in range(int(timeout_s / 0.1)):
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.1)
    return await check()


async def resets(client: Station16) -> list[dict]:
    return [payload for name, payload in client.received if name == "Reset"]


async def fault_alert() -> dict | None:
    return await Alert.select().where(Alert.kind == "connector_faulted").first()


async def healing(settings: dict) -> None:
    await Organization.update({Organization.settings: {"healing": settings}}).where(
        Organization.slug == TEST_ORGANIZATION
    )


def _actions(alert: dict) -> list[dict]:
    actions = alert["actions"]
    return actions if isinstance(actions, list) else json.loads(actions or "[]")


async def resolved_with_an_action() -> dict | None:
    alert = await Alert.select().where(Alert.status == "resolved").first()
    return alert if alert is not None and _actions(alert) else None


async def test_a_recoverable_fault_is_reset_and_clears(organization, register, connect_charger):
    await register("CP-HEAL")
    async with connect_charger("CP-HEAL", client_class=Station16) as client:
        await booted(client, "ocpp1.6")
        await client.call(fault("InternalError"))
        sent = await until(lambda: resets(client))
        assert sent == [{"type": "Soft"}]  # the first step: a soft reset, within seconds
        await client.call(AVAILABLE)  # the reset cleared it
        # The reset's outcome is recorded once the station answered it, which may be after
        # the Available that resolved the alert.
        alert = await until(resolved_with_an_action)
    assert alert["kind"] == "connector_faulted"
    actions = _actions(alert)
    assert [(a["action"], a["outcome"], a["by"]) for a in actions] == [
        ("soft_reset", "Accepted", "system")
    ]
    logged = await CommandLog.select(CommandLog.action, CommandLog.actor)
    assert logged == [{"action": "reset", "actor": "system"}]


async def test_a_safety_fault_only_alerts(organization, register, connect_charger):
    await register("CP-EARTH")
    async with connect_charger("CP-EARTH", client_class=Station16) as client:
        await booted(client, "ocpp1.6")
        await client.call(fault("GroundFailure"))
        alert = await until(fault_alert)
        await asyncio.sleep(1.5)  # give a would-be reset its chance
        assert await resets(client) == []
    assert (alert["severity"], alert["status"]) == ("critical", "open")


async def test_a_fault_that_stays_is_given_up_on_after_the_most_attempts(
    organization, register, connect_charger
):
    await healing({"max_attempts": 2, "backoff_s": [0, 1]})
    await register("CP-STUBBORN")
    async with connect_charger("CP-STUBBORN", client_class=Station16) as client:
        await booted(client, "ocpp1.6")
        await client.call(fault("OtherError"))

        async def escalated() -> dict | None:
            found = await fault_alert()
            return found if found and "escalated" in str(found["actions"]) else None

        alert = await until(escalated, timeout_s=20)
        await asyncio.sleep(1.5)
        sent = await resets(client)
    assert sent == [{"type": "Soft"}, {"type": "Hard"}]  # then no more
    assert alert["status"] == "open"


def problem(component: str, value: str, cleared: bool = False) -> call201.NotifyEvent:
    return call201.NotifyEvent(
        generated_at="2026-11-23T10:00:00Z",
        seq_no=0,
        event_data=[
            {
                "eventId": 1,
                "timestamp": "2026-11-23T10:00:00Z",
                "trigger": "Delta",
                "actualValue": value,
                "eventNotificationType": "HardWiredNotification",
                "component": {"name": component, "evse": {"id": 1, "connectorId": 1}},
                "variable": {"name": "Problem"},
                **({"cleared": True} if cleared else {}),
            }
        ],
    )


async def test_a_201_problem_event_is_reset_and_its_clearing_resolves_it(
    organization, register, connect_charger
):
    await register("CP-201-HEAL")
    async with connect_charger("CP-201-HEAL", "ocpp2.0.1", client_class=Station201) as client:
        await booted(client, "ocpp2.0.1")
        await client.call(problem("Controller", "true"))
        sent = await until(lambda: resets(client))
        assert sent  # InternalError: a remote reset may clear it
        await client.call(problem("Controller", "false", cleared=True))
        alert = await until(lambda: Alert.select().where(Alert.status == "resolved").first())
    assert alert["kind"] == "connector_faulted"
    details = (
        alert["details"] if isinstance(alert["details"], dict) else json.loads(alert["details"])
    )
    assert details["error_code"] == "InternalError"
