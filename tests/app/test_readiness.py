"""/readyz says 503, naming the part that is down, when the database is unreachable."""

import httpx
import pytest
from piccolo.engine.postgres import PostgresEngine
from starlette.applications import Starlette

from app.attempts import FailedAttempts, Limits
from app.billing.provider import DisabledProvider
from app.config import load_settings
from app.events import EventBus
from app.main import create_app
from app.runtime import Runtime
from app.unit_of_work import UnitOfWorkFactory
from tests.conftest import free_port


@pytest.mark.filterwarnings("ignore:.*Unable to connect to database")
async def test_readyz_is_503_when_the_database_is_down(settings):
    app: Starlette = create_app(settings, configure_logs=False)
    unreachable = PostgresEngine(config={"dsn": f"postgresql://127.0.0.1:{free_port()}/none"})
    bus = EventBus("memory://")
    await bus.connect()
    app.state.runtime = Runtime(
        settings=load_settings(),
        engine=unreachable,
        bus=bus,
        unit_of_work=UnitOfWorkFactory(unreachable, bus),
        payments=DisabledProvider(),
        attempts=FailedAttempts(Limits.of(load_settings()), None),
    )
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cpms") as client:
            response = await client.get("/readyz")
            alive = await client.get("/healthz")
    finally:
        await bus.disconnect()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["database"].startswith("unavailable")
    assert body["bus"] == "ok"
    assert alive.status_code == 200
