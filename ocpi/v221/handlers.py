"""OCPI 2.2.1 endpoints of this slice: versions, version details and credentials."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request

from app.roaming import service as roaming
from app.roaming.models import Registration
from app.roaming.peers import own_credentials
from app.runtime import Runtime
from ocpi.auth import caller
from ocpi.envelope import OcpiError, Status, json_body
from ocpi.peers import credentials_model, credentials_of
from ocpi.v221.models import VERSION, Credentials, Endpoint, InterfaceRole, ModuleId, Version

PREFIX = "/ocpi"


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _base(request: Request) -> str:
    return _runtime(request).settings.public_base_url + PREFIX


# What this installation offers, as a CPO: (module, our interface role, path under the version).
OFFERED: list[tuple[ModuleId, InterfaceRole, str]] = [
    # Errata: our own credentials endpoint is listed as SENDER.
    (ModuleId.CREDENTIALS, InterfaceRole.SENDER, "credentials"),
]


async def versions(request: Request) -> Any:
    await caller(request, registration=True)
    return [Version(version=VERSION, url=f"{_base(request)}/{VERSION}").model_dump()]


async def version_details(request: Request) -> Any:
    await caller(request, registration=True)
    base = f"{_base(request)}/{VERSION}"
    return {
        "version": VERSION,
        "endpoints": [
            Endpoint(identifier=module.value, role=role, url=f"{base}/{path}").model_dump(
                mode="json"
            )
            for module, role, path in OFFERED
        ],
    }


def _answer(request: Request, registration: Registration) -> Any:
    """Our credentials, as the answer to a partner's credentials call."""
    peers = _runtime(request).roaming_peers
    assert peers is not None
    ours = own_credentials(peers, registration.token, registration.identity)
    return credentials_model(ours).model_dump(mode="json", exclude_none=True)


async def _their_credentials(request: Request) -> Credentials:
    body = await json_body(request)
    try:
        return Credentials.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise OcpiError(Status.INVALID_PARAMETERS, f"{where}: {first['msg']}") from None


async def credentials(request: Request) -> Any:
    runtime = _runtime(request)
    partner, token = await caller(request, registration=True)
    if request.method == "GET":
        return _answer(request, await roaming.current_registration(partner, token))
    if request.method == "DELETE":
        await roaming.unregister(runtime.unit_of_work, partner, token)
        return None
    theirs = await _their_credentials(request)
    assert runtime.roaming_peers is not None
    registration = await roaming.accept_registration(
        runtime.unit_of_work,
        runtime.roaming_peers,
        partner,
        token,
        credentials_of(theirs),
        update=request.method == "PUT",
    )
    return _answer(request, registration)
