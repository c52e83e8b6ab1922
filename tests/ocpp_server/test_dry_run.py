"""CPMS_OCPP_DRY_RUN (benchmarks only): stations are answered, nothing is stored."""

from ocpp.v16 import call

from db.tables import ChargingSession, Connector, OcppMessageLog, StatusChange
from tests.conftest import charger, serving


async def test_dry_run_answers_and_stores_nothing(settings, register):
    await register("CP-DRY")
    async with serving(settings.model_copy(update={"ocpp_dry_run": True})) as server:
        async with charger(server, "CP-DRY") as client:
            boot = await client.call(
                call.BootNotification(charge_point_vendor="A", charge_point_model="B")
            )
            await client.call(
                call.StatusNotification(connector_id=1, error_code="NoError", status="Charging")
            )
            started = await client.call(
                call.StartTransaction(
                    connector_id=1, id_tag="X", meter_start=0, timestamp="2026-11-23T10:00:00Z"
                )
            )
        await server.app.state.ocpp.message_log.flush()
    assert boot.status == "Accepted" and started.transaction_id > 0
    for table in (Connector, ChargingSession):
        assert await table.count() == 0, table
    # Only the connection itself is recorded (as presence is), not what the station said.
    reported = await StatusChange.select(StatusChange.status)
    assert {row["status"] for row in reported} <= {"Connected", "Disconnected"}
    # (Frames of earlier tests may still be flushed by the shared server meanwhile.)
    assert await OcppMessageLog.count().where(OcppMessageLog.identity == "CP-DRY") == 0
