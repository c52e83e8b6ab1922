"""Ad hoc charging (AFIR: no contract, a card): the card is held first, and the station is
told to start only once the hold succeeded; a start that fails gives the hold back."""

from __future__ import annotations

from collections.abc import Callable

from app.auth import service as auth
from app.auth.access import Permission, require
from app.auth.models import Principal
from app.billing import payments
from app.billing.models import PaymentView
from app.billing.provider import PaymentProvider
from app.commands import service as commands
from app.commands.gateway import ChargerGateway
from app.commands.models import RemoteStart
from app.errors import CPMSError, NotFound
from app.stations import service as stations
from app.tariffs import service as tariffs
from app.unit_of_work import UnitOfWork


class StartRefused(CPMSError):
    """The station answered the remote start with something else than Accepted."""

    code = "rejected"

    def __init__(self, station_status: str) -> None:
        super().__init__(f"the station answered {station_status}; the card hold is released")
        self.station_status = station_status


async def start_ad_hoc(
    gateway: ChargerGateway,
    unit_of_work: Callable[[], UnitOfWork],
    provider: PaymentProvider,
    principal: Principal,
    connector_id: int,
    payment_method: str,
    hold_minor: int,
) -> PaymentView:
    """Hold `hold_minor` on the card in the currency of the connector's tariff, then start
    the connector's EVSE with a one-off token; the session's CDR is captured from the hold."""
    require(principal, Permission.CHARGE)
    connector = (await stations.connectors_by_ids(principal, [connector_id])).get(connector_id)
    if connector is None:
        raise NotFound(f"no connector {connector_id}")
    station = (await stations.stations_by_ids(principal, [connector.station_id]))[
        connector.station_id
    ]
    site = await stations.site_of_station(station.id)
    tariff = await tariffs.tariff_at(
        principal.organization_id, site.id if site else None, station.id, connector.id
    )
    currency = tariff.currency if tariff else (await auth.organization(principal)).default_currency
    payment, token = await payments.authorize_ad_hoc(
        unit_of_work(),
        provider,
        principal.organization_id,
        principal.user_id,
        currency,
        hold_minor,
        payment_method,
    )
    start = RemoteStart(id_token=token, evse_id=connector.evse_id)
    try:
        result = await commands.send_command(
            gateway, unit_of_work, station.identity, start, commands.actor_of(principal)
        )
    except CPMSError:
        await payments.release(unit_of_work(), payment)
        raise
    if not result.accepted:
        await payments.release(unit_of_work(), payment)
        raise StartRefused(result.status)
    return payment
