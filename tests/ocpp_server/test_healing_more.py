"""More conditions that open alerts: a failed firmware update, a command that keeps failing,
a session whose data stays incomplete."""

from datetime import timedelta

from ocpp.v16 import call

from app.billing import session_billing
from app.timeparse import utcnow
from db.tables import Alert
from tests.conftest import graphql
from tests.ocpp_server.test_v201 import register_reading, transaction_event


async def alerts(kind: str) -> list[str]:
    rows = await Alert.select(Alert.status).where(Alert.kind == kind)
    return [row["status"] for row in rows]


async def test_a_failed_firmware_update_alerts_until_one_is_installed(
    organization, register, connect_charger
):
    await register("CP-FW")
    async with connect_charger("CP-FW") as station:
        await station.call(call.FirmwareStatusNotification(status="InstallationFailed"))
        assert await alerts("firmware_failed") == ["open"]
        await station.call(call.FirmwareStatusNotification(status="Installed"))
    assert await alerts("firmware_failed") == ["resolved"]


async def test_a_command_that_keeps_failing_alerts(live_server, register, api_key):
    await register("CP-DEAF")  # never connects: every command fails at once
    operator = await api_key(role="operator")
    for attempt in range(3):
        await graphql(
            live_server,
            'mutation { reset(identity: "CP-DEAF") { __typename } }',
            token=operator,
        )
        assert await alerts("command_failures") == ([] if attempt < 2 else ["open"])


async def test_a_session_missing_an_event_an_hour_on_is_flagged(
    organization, register, connect_charger, unit_of_work
):
    await register("CP-GAP")
    start = utcnow() - timedelta(hours=3)
    at = [(start + timedelta(minutes=m)).isoformat() for m in (0, 60)]
    async with connect_charger("CP-GAP", "ocpp2.0.1") as station:
        await station.call(
            transaction_event(
                "Started",
                0,
                at[0],
                offline=True,
                trigger_reason="Authorized",
                id_token={"idToken": "04AA", "type": "ISO14443"},
                evse={"id": 1, "connectorId": 1},
                meter_value=[register_reading(0, at[0], "Transaction.Begin")],
            )
        )
        await station.call(
            transaction_event(  # seqNo 1 never arrives
                "Ended",
                2,
                at[1],
                offline=True,
                trigger_reason="EVDeparted",
                meter_value=[register_reading(9000, at[1], "Transaction.End")],
            )
        )
    await session_billing.bill_unbilled(unit_of_work())
    assert await alerts("incomplete_session") == ["open"]
