"""The form of every OCPI answer: the envelope (`data`, `status_code`, `status_message`,
`timestamp`), the HTTP status that goes with it, and the request ids echoed back."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.errors import AlreadyExists, CPMSError, InvalidInput, NotFound
from app.roaming.errors import (
    MissingEndpoints,
    NoCommonVersion,
    PartnerUnreachable,
    RegistrationState,
    TooManyParties,
)
from app.timeparse import utcnow
from ocpi.v221.models import ocpi_datetime

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

REQUEST_ID = "X-Request-ID"
CORRELATION_ID = "X-Correlation-ID"


class Status(IntEnum):
    """OCPI status codes (status_codes.asciidoc)."""

    SUCCESS = 1000
    CLIENT_ERROR = 2000
    INVALID_PARAMETERS = 2001
    NOT_ENOUGH_INFORMATION = 2002
    UNKNOWN_LOCATION = 2003
    UNKNOWN_TOKEN = 2004
    SERVER_ERROR = 3000
    UNABLE_TO_USE_CLIENT_API = 3001
    UNSUPPORTED_VERSION = 3002
    NO_MATCHING_ENDPOINTS = 3003


class OcpiError(Exception):
    """An answer other than success, with its OCPI status code and HTTP status."""

    def __init__(self, status: Status, message: str, http_status: int = 200) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.http_status = http_status


def unauthorized(message: str, status: Status = Status.CLIENT_ERROR) -> OcpiError:
    return OcpiError(status, message, http_status=401)


# How the domain's expected failures read in OCPI. A request that is authenticated, valid JSON
# and about an object that exists gets HTTP 200 with the OCPI code (transport_and_format).
_FAILURES: list[tuple[type[CPMSError], Status, int]] = [
    (PartnerUnreachable, Status.UNABLE_TO_USE_CLIENT_API, 200),
    (NoCommonVersion, Status.UNSUPPORTED_VERSION, 200),
    (MissingEndpoints, Status.NO_MATCHING_ENDPOINTS, 200),
    (RegistrationState, Status.CLIENT_ERROR, 405),
    (InvalidInput, Status.INVALID_PARAMETERS, 200),
    (AlreadyExists, Status.INVALID_PARAMETERS, 200),
    (NotFound, Status.CLIENT_ERROR, 404),
    (TooManyParties, Status.CLIENT_ERROR, 200),
]


def from_failure(error: CPMSError) -> OcpiError:
    for failure, status, http_status in _FAILURES:
        if isinstance(error, failure):
            return OcpiError(status, error.message, http_status)
    return OcpiError(Status.CLIENT_ERROR, error.message)


def envelope(
    data: Any = None, status: Status = Status.SUCCESS, message: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"status_code": int(status), "timestamp": ocpi_datetime(utcnow())}
    if data is not None:
        body["data"] = data
    if message is not None:
        body["status_message"] = message
    return body


def request_ids(request: Request) -> dict[str, str]:
    """The ids a response echoes: the caller's, or new ones when it sent none."""
    request_id = request.headers.get(REQUEST_ID) or str(uuid.uuid4())
    correlation_id = request.headers.get(CORRELATION_ID) or request_id
    return {REQUEST_ID: request_id[:255], CORRELATION_ID: correlation_id[:255]}


@dataclass(frozen=True)
class Answer:
    """A success with headers of its own (a page's Link, X-Total-Count, X-Limit)."""

    data: Any
    headers: dict[str, str]


Handler = Callable[[Request], Awaitable[Any]]


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """An OCPI endpoint: the handler returns the `data` of a success (or an Answer with
    headers) or raises OcpiError / CPMSError; every answer is an envelope with the request
    ids."""

    async def answer(request: Request) -> Response:
        headers = request_ids(request)
        http_status = 200
        try:
            result = await handler(request)
            if isinstance(result, Answer):
                headers.update(result.headers)
                result = result.data
            body = envelope(result)
        except OcpiError as error:
            body, http_status = envelope(None, error.status, error.message), error.http_status
        except CPMSError as error:
            mapped = from_failure(error)
            body, http_status = envelope(None, mapped.status, mapped.message), mapped.http_status
        except Exception:
            logger.exception("OCPI request failed", extra={"path": request.url.path})
            body, http_status = envelope(None, Status.SERVER_ERROR, "internal error"), 500
        return JSONResponse(body, status_code=http_status, headers=headers)

    return answer


def first_problem(error: ValidationError, whole: str = "body") -> str:
    """The first field that is not what the OCPI object says, and why."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or whole
    return f"{where}: {first['msg']}"


def parsed(model: type[M], data: Any) -> M:
    """`data` as this OCPI object, or OCPI 2001 naming the first field that is not."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise OcpiError(Status.INVALID_PARAMETERS, first_problem(error)) from None


async def json_body(request: Request) -> Any:
    """The request's JSON, or OCPI 2001 (HTTP 400: not JSON at all)."""
    raw = await request.body()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise OcpiError(
            Status.INVALID_PARAMETERS, f"the body is not JSON: {error}", http_status=400
        ) from None


def routing_headers(
    sender_country: str, sender_party: str, receiver_country: str, receiver_party: str
) -> dict[str, str]:
    """The hub routing headers of a functional module's message (OCPI-from/to-…)."""
    return {
        "OCPI-from-country-code": sender_country,
        "OCPI-from-party-id": sender_party,
        "OCPI-to-country-code": receiver_country,
        "OCPI-to-party-id": receiver_party,
    }
