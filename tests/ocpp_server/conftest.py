"""Real OCPP clients (the `ocpp` library's charge points over `websockets`) for the tests."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from ocpp.v16 import ChargePoint as Client16
from ocpp.v201 import ChargePoint as Client201
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from app.stations.registration import register_station
from db.tables import Organization
from tests.conftest import REGISTRY_ORGANIZATION

TEST_ORGANIZATION = "acme"


@pytest.fixture
async def organization(clean_db) -> int:
    """An operator, plus the registry organization whose policy is 'reject'."""
    await Organization.insert(
        Organization(name="Acme Charging", slug=TEST_ORGANIZATION),
        Organization(name="Registry", slug=REGISTRY_ORGANIZATION, unknown_station_policy="reject"),
    )
    row = (
        await Organization.select(Organization.id)
        .where(Organization.slug == TEST_ORGANIZATION)
        .first()
    )
    assert row is not None
    return int(row["id"])


@pytest.fixture
def register(unit_of_work, organization) -> Callable[..., Any]:
    async def add(identity: str, password: str | None = None, profile: int | None = None):
        return await register_station(
            unit_of_work(), identity, TEST_ORGANIZATION, password=password, security_profile=profile
        )

    return add


def basic_auth(identity: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{identity}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@asynccontextmanager
async def charger(
    server: Any,
    identity: str,
    protocol: str = "ocpp1.6",
    password: str | None = None,
) -> AsyncIterator[Any]:
    """A connected client charge point of the given version, its receive loop running."""
    headers = basic_auth(identity, password) if password else None
    async with connect(
        f"{server.ws}/ocpp/{identity}",
        subprotocols=[Subprotocol(protocol)],
        additional_headers=headers,
    ) as websocket:
        client_class = Client201 if protocol == "ocpp2.0.1" else Client16
        client = client_class(identity, websocket, response_timeout=10)
        listener = asyncio.create_task(client.start())
        try:
            yield client
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)


@pytest.fixture
def connect_charger(live_server) -> Callable[..., AbstractAsyncContextManager[Any]]:
    def open_charger(identity: str, protocol: str = "ocpp1.6", password: str | None = None):
        return charger(live_server, identity, protocol, password)

    return open_charger
