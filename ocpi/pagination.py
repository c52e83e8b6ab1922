"""Paginated lists (transport_and_format: `offset`, `limit`, `date_from`, `date_to`; the
answer's `X-Total-Count`, `X-Limit` and `Link: <…>; rel="next"`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.datastructures import URL
from starlette.requests import Request

from ocpi.envelope import OcpiError, Status

MAX_OFFSET = 10_000_000
_DATETIME = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?$"
)


def _bad(message: str) -> OcpiError:
    return OcpiError(Status.INVALID_PARAMETERS, message, http_status=400)


def _integer(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise _bad(f"{name}: a whole number")
    value = int(text)
    if not low <= value <= high:
        raise _bad(f"{name}: from {low} to {high}")
    return value


def _moment(request: Request, name: str) -> datetime | None:
    text = request.query_params.get(name)
    if text is None:
        return None
    if not _DATETIME.match(text):
        raise _bad(f"{name}: an RFC 3339 date and time, e.g. 2026-01-31T12:00:00Z")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(f"{name}: not a date and time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class PageQuery:
    offset: int
    limit: int
    date_from: datetime | None
    date_to: datetime | None
    max_limit: int  # ours: X-Limit

    @classmethod
    def of(cls, request: Request, max_limit: int) -> PageQuery:
        """The page asked for; a limit above ours is lowered to ours (X-Limit says it)."""
        return cls(
            offset=_integer(request, "offset", 0, 0, MAX_OFFSET),
            limit=min(_integer(request, "limit", max_limit, 1, 1_000_000_000), max_limit),
            date_from=_moment(request, "date_from"),
            date_to=_moment(request, "date_to"),
            max_limit=max_limit,
        )

    def headers(
        self, request: Request, public_base_url: str, returned: int, total: int
    ) -> dict[str, str]:
        """The page's headers; the next page's link keeps the filters and is on the public
        address."""
        headers = {"X-Total-Count": str(total), "X-Limit": str(self.max_limit)}
        if self.offset + returned < total:
            here = URL(public_base_url + request.url.path + "?" + request.url.query)
            following = here.include_query_params(offset=self.offset + returned, limit=self.limit)
            headers["Link"] = f'<{following}>; rel="next"'
        return headers
