"""Typed errors of mutations: an expected failure is a result the client can switch on, with a
stable `code` and a `message` for people, never a generic GraphQL error."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from app.attempts import RateLimited
from app.billing.provider import PaymentDeclined, PaymentsDisabled, ProviderUnavailable
from app.commands.errors import (
    BusUnavailable,
    CommandFailed,
    CommandNotSupported,
    CommandTimeout,
    StationNotReady,
    StationOffline,
)
from app.errors import AlreadyExists, CPMSError, InvalidInput, NotAuthenticated, NotFound
from app.errors import NotPermitted as NotPermittedFailure
from app.roaming.errors import MissingEndpoints, NoCommonVersion, PartnerUnreachable


@strawberry.interface(description="An expected failure: switch on the type or on `code`.")
class UserError:
    code: str
    message: str


@strawberry.type(description="The credentials are missing, wrong, expired or revoked.")
class NotAuthenticatedError(UserError):
    pass


@strawberry.type(description="The caller's role does not allow this.")
class NotPermittedError(UserError):
    pass


@strawberry.type(description="The input is invalid; `message` says which part and why.")
class InvalidInputError(UserError):
    pass


@strawberry.type(description="Nothing with this id exists in the caller's organization.")
class NotFoundError(UserError):
    pass


@strawberry.type(description="Something with this natural key exists already.")
class AlreadyExistsError(UserError):
    pass


@strawberry.type(
    description="Too many failed attempts lately (an account or an address locked out for a "
    "while); nothing was checked. Try again after `retryAfterS` seconds."
)
class RateLimitedError(UserError):
    retry_after_s: int


PROBLEM_TYPES: dict[type[CPMSError], type[UserError]] = {
    NotAuthenticated: NotAuthenticatedError,
    NotPermittedFailure: NotPermittedError,
    InvalidInput: InvalidInputError,
    NotFound: NotFoundError,
    AlreadyExists: AlreadyExistsError,
}


def problem(error: CPMSError) -> UserError:
    """The typed error for an expected failure; unmapped ones are re-raised (a bug to fix)."""
    if isinstance(error, RateLimited):
        return RateLimitedError(
            code=error.code, message=error.message, retry_after_s=error.retry_after_s
        )
    for failure_type in type(error).__mro__:
        problem_type = PROBLEM_TYPES.get(failure_type)
        if problem_type is not None:
            return problem_type(code=error.code, message=error.message)
    raise error


@strawberry.type(description="The station is not connected to any node.")
class StationOfflineError(UserError):
    pass


@strawberry.type(description="Connected, but its boot has not been accepted yet.")
class StationNotReadyError(UserError):
    pass


@strawberry.type(
    description="The station is connected to another node, and the nodes cannot reach each"
    " other right now (Redis is unavailable). Nothing was sent; try again shortly."
)
class BusUnavailableError(UserError):
    pass


@strawberry.type(description="The station did not answer in time (CPMS_COMMAND_TIMEOUT_S).")
class TimedOutError(UserError):
    pass


@strawberry.type(description="The station answered with an OCPP CallError, or lacks the command.")
class StationCallError(UserError):
    pass


@strawberry.type(description="The station answered but refused; `stationStatus` is its word.")
class RejectedByStationError(UserError):
    station_status: str
    reason: str | None = strawberry.field(
        default=None,
        description="The station's reason, when it gives one (2.0.1 statusInfo.reasonCode, "
        "e.g. InvalidIdToken).",
    )
    data: dict[str, Any] = strawberry.field(
        default_factory=dict,
        graphql_type=JSON,
        description="Whatever else the station answered (2.0.1 statusInfo with its "
        "additionalInfo).",
    )


@strawberry.type(description="The card was declined or could not be held.")
class PaymentDeclinedError(UserError):
    pass


@strawberry.type(description="Payments are not configured on this CPMS (no Stripe key).")
class PaymentsDisabledError(UserError):
    pass


@strawberry.type(description="The payment provider failed or could not be reached; try again.")
class PaymentProviderError(UserError):
    pass


@strawberry.type(
    description="The partner's platform could not be used: it did not answer as OCPI says "
    "(`partner_unreachable`), offers no version we speak (`unsupported_version`) or lacks an "
    "endpoint the handshake needs (`missing_endpoints`); `message` says what it answered."
)
class PartnerError(UserError):
    pass


PROBLEM_TYPES.update(
    {
        PartnerUnreachable: PartnerError,
        NoCommonVersion: PartnerError,
        MissingEndpoints: PartnerError,
        PaymentDeclined: PaymentDeclinedError,
        PaymentsDisabled: PaymentsDisabledError,
        ProviderUnavailable: PaymentProviderError,
        StationOffline: StationOfflineError,
        StationNotReady: StationNotReadyError,
        BusUnavailable: BusUnavailableError,
        CommandTimeout: TimedOutError,
        CommandFailed: StationCallError,
        CommandNotSupported: StationCallError,
    }
)
