"""A roaming partner that has not taken what we push for long is an alert, until it does."""

from __future__ import annotations

from collections.abc import Sequence

from app.events import PartnerDeliveryChanged
from app.healing.models import AlertDraft, AlertKind, AlertSeverity
from app.healing.service import alert_key, clear_alert, raise_alert
from app.unit_of_work import UnitOfWork


async def on_partner_deliveries(uow: UnitOfWork, changes: Sequence[PartnerDeliveryChanged]) -> None:
    for change in changes:
        key = alert_key(AlertKind.PARTNER_UNREACHABLE, change.partner_id)
        if change.failing_since is None:
            await clear_alert(uow, change.organization_id, key)
            continue
        since = change.failing_since.strftime("%Y-%m-%d %H:%M UTC")
        await raise_alert(
            uow,
            AlertDraft(
                organization_id=change.organization_id,
                kind=AlertKind.PARTNER_UNREACHABLE,
                severity=AlertSeverity.CRITICAL,
                message=f"Roaming partner {change.partner_name} takes no updates since {since}",
                dedupe_key=key,
                details={"partnerId": change.partner_id, "error": change.error},
            ),
        )
