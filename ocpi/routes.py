"""The OCPI endpoints, mounted under /ocpi by the composition root: the versions we speak,
each under its own path, as its version details list them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from ocpi.auth import caller
from ocpi.envelope import endpoint
from ocpi.handling import PREFIX, base_url
from ocpi.peers import WIRES
from ocpi.v211 import handlers as v211
from ocpi.v221 import handlers as v221
from ocpi.v221.models import Version


async def versions(request: Request) -> Any:
    await caller(request, registration=True)
    base = base_url(request)
    return [Version(version=each, url=f"{base}/{each}").model_dump() for each in WIRES]


def _locations(base: str, handlers: Any) -> list[Route]:
    return [
        Route(f"{base}/locations", endpoint(handlers.location_list), methods=["GET"]),
        *(
            Route(f"{base}/locations/{path}", endpoint(handlers.location_object), methods=["GET"])
            for path in (
                "{location_id}",
                "{location_id}/{evse_uid}",
                "{location_id}/{evse_uid}/{connector_id}",
            )
        ),
    ]


def _v221_routes() -> list[Route]:
    base = f"{PREFIX}/{v221.VERSION}"
    return [
        Route(base, endpoint(v221.version_details), methods=["GET"]),
        Route(
            f"{base}/credentials",
            endpoint(v221.credentials),
            methods=["GET", "POST", "PUT", "DELETE"],
        ),
        *_locations(base, v221),
        Route(f"{base}/commands/{{command}}", endpoint(v221.command), methods=["POST"]),
        Route(
            f"{base}/chargingprofiles/{{session_id}}",
            endpoint(v221.charging_profile),
            methods=["GET", "PUT", "DELETE"],
        ),
        Route(
            f"{base}/hubclientinfo/{{country_code}}/{{party_id}}",
            endpoint(v221.hub_client_info),
            methods=["GET", "PUT"],
        ),
        Route(f"{base}/tariffs", endpoint(v221.tariff_list), methods=["GET"]),
        Route(f"{base}/cdrs", endpoint(v221.cdr_list), methods=["GET"]),
        Route(f"{base}/sessions", endpoint(v221.session_list), methods=["GET"]),
        Route(
            f"{base}/sessions/{{session_id}}/charging_preferences",
            endpoint(v221.charging_preferences),
            methods=["PUT"],
        ),
        Route(
            f"{base}/tokens/{{country_code}}/{{party_id}}/{{uid}}",
            endpoint(v221.token_object),
            methods=["GET", "PUT", "PATCH"],
        ),
    ]


def _v211_routes() -> list[Route]:
    base = f"{PREFIX}/{v211.VERSION}"
    return [
        Route(base, endpoint(v211.version_details), methods=["GET"]),
        Route(
            f"{base}/credentials",
            endpoint(v211.credentials),
            methods=["GET", "POST", "PUT", "DELETE"],
        ),
        *_locations(base, v211),
        Route(f"{base}/tariffs", endpoint(v211.tariff_list), methods=["GET"]),
        Route(f"{base}/sessions", endpoint(v211.session_list), methods=["GET"]),
        Route(f"{base}/commands/{{command}}", endpoint(v211.command), methods=["POST"]),
        Route(f"{base}/cdrs", endpoint(v211.cdr_list), methods=["GET"]),
        Route(
            f"{base}/tokens/{{country_code}}/{{party_id}}/{{uid}}",
            endpoint(v211.token_object),
            methods=["GET", "PUT", "PATCH"],
        ),
    ]


def ocpi_routes() -> list[Route]:
    return [
        Route(f"{PREFIX}/versions", endpoint(versions), methods=["GET"]),
        *_v221_routes(),
        *_v211_routes(),
        # Anything else under /ocpi: an envelope too, not a bare 404.
        Route(
            f"{PREFIX}/{{rest:path}}",
            endpoint(v221.no_such_endpoint),
            methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        ),
    ]
