"""The OCPI endpoints, mounted under /ocpi by the composition root."""

from __future__ import annotations

from starlette.routing import Route

from ocpi.envelope import endpoint
from ocpi.v221 import handlers
from ocpi.v221.models import VERSION


def ocpi_routes() -> list[Route]:
    base = f"{handlers.PREFIX}/{VERSION}"
    return [
        Route(f"{handlers.PREFIX}/versions", endpoint(handlers.versions), methods=["GET"]),
        Route(base, endpoint(handlers.version_details), methods=["GET"]),
        Route(
            f"{base}/credentials",
            endpoint(handlers.credentials),
            methods=["GET", "POST", "PUT", "DELETE"],
        ),
        Route(f"{base}/locations", endpoint(handlers.location_list), methods=["GET"]),
        *(
            Route(f"{base}/locations/{path}", endpoint(handlers.location_object), methods=["GET"])
            for path in (
                "{location_id}",
                "{location_id}/{evse_uid}",
                "{location_id}/{evse_uid}/{connector_id}",
            )
        ),
        Route(f"{base}/commands/{{command}}", endpoint(handlers.command), methods=["POST"]),
        Route(
            f"{base}/chargingprofiles/{{session_id}}",
            endpoint(handlers.charging_profile),
            methods=["GET", "PUT", "DELETE"],
        ),
        Route(
            f"{base}/hubclientinfo/{{country_code}}/{{party_id}}",
            endpoint(handlers.hub_client_info),
            methods=["GET", "PUT"],
        ),
        Route(f"{base}/tariffs", endpoint(handlers.tariff_list), methods=["GET"]),
        Route(f"{base}/cdrs", endpoint(handlers.cdr_list), methods=["GET"]),
        Route(f"{base}/sessions", endpoint(handlers.session_list), methods=["GET"]),
        Route(
            f"{base}/sessions/{{session_id}}/charging_preferences",
            endpoint(handlers.charging_preferences),
            methods=["PUT"],
        ),
        Route(
            f"{base}/tokens/{{country_code}}/{{party_id}}/{{uid}}",
            endpoint(handlers.token_object),
            methods=["GET", "PUT", "PATCH"],
        ),
        # Anything else under /ocpi: an envelope too, not a bare 404.
        Route(
            f"{handlers.PREFIX}/{{rest:path}}",
            endpoint(handlers.no_such_endpoint),
            methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        ),
    ]
