"""Stand-ins for the domain services that answer like them but write nothing.

Only for measuring what storage costs: `CPMS_OCPP_DRY_RUN=1` runs the whole OCPP path (framing,
the ocpp library, handlers, events) with these in place of the database work. Never in
production: nothing a station sends is kept."""

from __future__ import annotations

import itertools
from typing import Any

from app.auth.models import ACCEPTED, TokenVerdict
from app.sessions.models import StartResult

_transaction_ids = itertools.count(1)


class DryRunStations:
    async def record_boot(self, *_: Any, **__: Any) -> str:
        return ACCEPTED

    async def record_status(self, *_: Any, **__: Any) -> None:
        return None

    async def record_security_event(self, *_: Any, **__: Any) -> None:
        return None


class DryRunSessions:
    async def authorize(self, *_: Any, **__: Any) -> TokenVerdict:
        return TokenVerdict(status=ACCEPTED)

    async def start_transaction(self, *_: Any, **__: Any) -> StartResult:
        return StartResult(next(_transaction_ids), TokenVerdict(status=ACCEPTED))

    async def stop_transaction(self, *_: Any, **__: Any) -> TokenVerdict | None:
        return None

    async def record_meter_values(self, *_: Any, **__: Any) -> None:
        return None

    async def transaction_event(self, *_: Any, **__: Any) -> TokenVerdict | None:
        return None
