"""Root query: the caller, any node by global id, and the network's lists."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from app.auth import service as auth
from app.billing import service as billing
from app.healing import service as healing
from app.roaming import service as roaming
from app.sessions import service as sessions
from app.sessions.models import SessionFilter, SessionOrder
from app.stations import service as stations
from app.stations.models import StationFilter, StationOrder
from app.tariffs import service as tariffs
from schema.alert_types import Alert, AlertFilterInput
from schema.auth_types import ApiKey, Organization, User, Viewer
from schema.billing_types import Cdr, Payment
from schema.context import Context
from schema.dashboard import Dashboard
from schema.enums import ConnectorStatus, PaymentStatus, RegistrationStatus, SessionLifecycle
from schema.id_tokens import IdToken
from schema.ids import local_id
from schema.organizations import all_organizations
from schema.pagination import After, Before, Connection, First, Last, connection, page_request
from schema.partners import Partner, RoamingSettlement
from schema.reservations import Reservation, ReservationFilterInput
from schema.session_types import ChargingSession
from schema.tariff_types import PricePreview, Tariff
from schema.types import ChargingStation, Site


@strawberry.input(description="Narrow a station list; every field is optional.")
class StationFilterInput:
    site_id: relay.GlobalID | None = None
    status: ConnectorStatus | None = strawberry.field(
        default=None, description="The station's own status, as `ChargingStation.status`."
    )
    online: bool | None = strawberry.field(default=None, description="Connected right now.")
    registration_status: RegistrationStatus | None = None
    vendor: str | None = None
    model: str | None = None
    firmware_version: str | None = None
    search: str | None = strawberry.field(
        default=None, description="Part of the identity or name, any case."
    )

    def to_model(self) -> StationFilter:
        return StationFilter(
            site_id=local_id(self.site_id, "Site"),
            status=self.status,
            connected=self.online,
            registration_status=self.registration_status,
            vendor=self.vendor,
            model=self.model,
            firmware_version=self.firmware_version,
            search=self.search.strip() if self.search and self.search.strip() else None,
        )


@strawberry.input(description="Narrow a session list; every field is optional.")
class SessionFilterInput:
    state: SessionLifecycle | None = None
    station_id: relay.GlobalID | None = None
    id_tag: str | None = strawberry.field(default=None, description="The token as sent.")
    user_id: relay.GlobalID | None = None
    started_from: datetime | None = strawberry.field(
        default=None, description="Started at or after."
    )
    started_before: datetime | None = None

    def to_model(self) -> SessionFilter:
        return SessionFilter(
            state=self.state,
            station_id=local_id(self.station_id, "ChargingStation"),
            id_tag=self.id_tag,
            user_id=local_id(self.user_id, "User"),
            started_from=self.started_from,
            started_before=self.started_before,
        )


@strawberry.type
class Query:
    node: relay.Node | None = relay.node(
        description="Anything with a global id, within the caller's organization."
    )

    @strawberry.field(description="Who is calling: organization, role, user or API key.")
    async def viewer(self, info: Info[Context, None]) -> Viewer:
        return Viewer.from_model(info.context.principal)

    organizations: Connection[Organization] = strawberry.field(
        resolver=all_organizations, description="Every organization, oldest first (platform key)."
    )

    @strawberry.field(description="The organization's API keys, oldest first (admin).")
    async def api_keys(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ApiKey]:
        request = page_request(first, after, last, before)
        page = await auth.page_api_keys(info.context.principal, request)
        return connection(page, ApiKey.from_model)

    @strawberry.field(description="Sites in creation order.")
    async def sites(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Site]:
        request = page_request(first, after, last, before)
        return connection(
            await stations.page_sites(info.context.principal, request), Site.from_model
        )

    @strawberry.field(description="Charging stations: filtered, sorted, cursor-paginated.")
    async def stations(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: StationFilterInput | None = None,
        order_by: StationOrder = StationOrder.IDENTITY,
    ) -> Connection[ChargingStation]:
        page = await stations.page_stations(
            info.context.principal,
            filter.to_model() if filter else None,
            order_by,
            page_request(first, after, last, before),
        )
        return connection(page, ChargingStation.from_model)

    @strawberry.field(
        description="Charging sessions, newest first by default; a driver sees only their own."
    )
    async def sessions(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: SessionFilterInput | None = None,
        order_by: SessionOrder = SessionOrder.NEWEST,
    ) -> Connection[ChargingSession]:
        page = await sessions.page_sessions(
            info.context.principal,
            filter.to_model() if filter else None,
            order_by,
            page_request(first, after, last, before),
        )
        return connection(page, ChargingSession.from_model)

    @strawberry.field(description="Reservations, newest first.")
    async def reservations(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: ReservationFilterInput | None = None,
    ) -> Connection[Reservation]:
        page = await stations.page_reservations(
            info.context.principal,
            filter.to_model() if filter else None,
            page_request(first, after, last, before),
        )
        return connection(page, Reservation.from_model)

    @strawberry.field(
        description="Charge detail records, newest first; a driver sees only their own."
    )
    async def cdrs(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        session_id: relay.GlobalID | None = None,
    ) -> Connection[Cdr]:
        page = await billing.page_cdrs(
            info.context.principal,
            local_id(session_id, "ChargingSession"),
            page_request(first, after, last, before),
        )
        return connection(page, Cdr.from_model)

    @strawberry.field(description="Payments, newest first; a driver sees only their own.")
    async def payments(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        status: PaymentStatus | None = None,
    ) -> Connection[Payment]:
        page = await billing.page_payments(
            info.context.principal, status, page_request(first, after, last, before)
        )
        return connection(page, Payment.from_model)

    @strawberry.field(description="Roaming partners, in the order they were added.")
    async def partners(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Partner]:
        page = await roaming.page_partners(
            info.context.principal, page_request(first, after, last, before)
        )
        return connection(page, Partner.from_model)

    @strawberry.field(
        description="For finance: what a roaming partner owes for the CDRs of its tokens "
        "issued from `from` (inclusive) to `to` (exclusive), per currency."
    )
    async def roaming_settlement(
        self,
        info: Info[Context, None],
        partner_id: relay.GlobalID,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
    ) -> RoamingSettlement:
        found = await roaming.settlement(
            info.context.principal, local_id(partner_id, "Partner") or 0, from_, to
        )
        return RoamingSettlement.from_model(found)

    @strawberry.field(description="Tariffs in the order they were added (every role).")
    async def tariffs(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Tariff]:
        page = await tariffs.page_tariffs(
            info.context.principal, page_request(first, after, last, before)
        )
        return connection(page, Tariff.from_model)

    @strawberry.field(
        description="The price at a connector now, every component in words and numbers, "
        "before a session starts; null when no tariff applies there."
    )
    async def price_preview(
        self,
        info: Info[Context, None],
        connector_id: relay.GlobalID,
        token_group_id: str | None = None,
    ) -> PricePreview | None:
        preview = await tariffs.price_preview(
            info.context.principal, local_id(connector_id, "Connector") or 0, token_group_id
        )
        return PricePreview.from_model(preview) if preview else None

    @strawberry.field(
        description="The organization's self-healing settings as set (defaults otherwise).",
        graphql_type=JSON,
    )
    async def healing_settings(self, info: Info[Context, None]) -> dict[str, Any]:
        return await healing.healing_settings(info.context.principal)

    @strawberry.field(description="Figures for a dashboard; `from`/`to` bound the period.")
    async def dashboard(
        self,
        info: Info[Context, None],
        site_id: relay.GlobalID | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> Dashboard:
        info.context.principal  # noqa: B018 - sign in first, whatever is selected
        return Dashboard(site_id=local_id(site_id, "Site"), started_from=from_, started_before=to)

    @strawberry.field(description='Alerts, newest first; e.g. filter { status: "open" }.')
    async def alerts(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: AlertFilterInput | None = None,
    ) -> Connection[Alert]:
        page = await healing.page_alerts(
            info.context.principal,
            filter.to_model() if filter else None,
            page_request(first, after, last, before),
        )
        return connection(page, Alert.from_model)

    @strawberry.field(description="The organization's people (admin).")
    async def users(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[User]:
        page = await auth.page_users(
            info.context.principal, page_request(first, after, last, before)
        )
        return connection(page, User.from_model)

    @strawberry.field(description="Id tokens; a driver sees only their own.")
    async def id_tokens(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[IdToken]:
        page = await auth.page_id_tokens(
            info.context.principal, page_request(first, after, last, before)
        )
        return connection(page, IdToken.from_model)

    @strawberry.field(description="The station with this OCPP identity.")
    async def station(self, info: Info[Context, None], identity: str) -> ChargingStation | None:
        found = await stations.get_station(info.context.principal, identity)
        return ChargingStation.from_model(found) if found else None
