"""Stand-ins for the domain services that answer like them but write nothing.

Only for measuring what storage costs: `CPMS_OCPP_DRY_RUN=1` runs the whole OCPP path (framing,
the ocpp library, handlers, the events of boots and statuses) with these in place of the
database work. Never in
production: nothing a station sends is kept."""

from __future__ import annotations

import itertools
from typing import Any

from app.auth.models import ACCEPTED, TokenVerdict
from app.events import StationBooted
from app.sessions.models import StartResult, TransactionAnswer
from app.stations.models import BootAnswer, BootInfo, StationRecord, StatusReport
from app.stations.service import status_event
from app.unit_of_work import UnitOfWork

_transaction_ids = itertools.count(1)


class DryRunStations:
    """Answers like app.stations.service and publishes its events, storing nothing."""

    async def record_boot(
        self, uow: UnitOfWork, station: StationRecord, boot: BootInfo
    ) -> BootAnswer:
        await uow.publish(
            StationBooted(
                organization_id=station.organization_id,
                station_id=station.id,
                identity=station.identity,
                registration_status=ACCEPTED,
                vendor=boot.vendor,
                model=boot.model,
            )
        )
        return BootAnswer(ACCEPTED, station.heartbeat_interval)

    async def record_status(
        self, uow: UnitOfWork, station: StationRecord, report: StatusReport
    ) -> None:
        await uow.publish(status_event(station, report))

    async def _store_nothing(self, *_: Any, **__: Any) -> None:
        return None

    record_security_event = record_configuration = record_events = _store_nothing
    record_transfer_status = record_reservation_status = _store_nothing


class DryRunSessions:
    async def authorize(self, *_: Any, **__: Any) -> TokenVerdict:
        return TokenVerdict(status=ACCEPTED)

    async def start_transaction(self, *_: Any, **__: Any) -> StartResult:
        return StartResult(next(_transaction_ids), TokenVerdict(status=ACCEPTED))

    async def stop_transaction(self, *_: Any, **__: Any) -> TokenVerdict | None:
        return None

    async def record_meter_values(self, *_: Any, **__: Any) -> None:
        return None

    async def transaction_event(self, *_: Any, **__: Any) -> TransactionAnswer:
        return TransactionAnswer()
