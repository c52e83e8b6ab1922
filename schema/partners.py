"""Roaming partners (OCPI): the list, and the two ways of connecting one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.errors import CPMSError
from app.roaming import service as roaming
from app.roaming.models import HubPartyView, PartnerView, Settlement
from schema.context import Context
from schema.enums import EndpointRole, HubPartyStatus, PartnerRole, PartnerStatus
from schema.ids import local_id, nodes_by_id
from schema.inputs import given
from schema.pagination import After, Before, Connection, First, Last, connection, page_request
from schema.problems import (
    AlreadyExistsError,
    InvalidInputError,
    NotAuthenticatedError,
    NotFoundError,
    NotPermittedError,
    PartnerError,
    problem,
)


@strawberry.type(description="A module a partner offers, from its OCPI version details.")
class PartnerEndpoint:
    module: str = strawberry.field(description="OCPI module id, e.g. locations, tokens")
    role: EndpointRole
    url: str


@strawberry.type(description="A party a roaming hub connects us with, as the hub told.")
class HubParty:
    country_code: str
    party_id: str
    role: PartnerRole
    status: HubPartyStatus
    last_updated: datetime = strawberry.field(description="When the hub last changed it")

    @classmethod
    def from_model(cls, model: HubPartyView) -> HubParty:
        return cls(
            country_code=model.country_code,
            party_id=model.party_id,
            role=PartnerRole(model.role),
            status=HubPartyStatus(model.status),
            last_updated=model.last_updated,
        )


@strawberry.type(description="A roaming partner: an eMSP or a hub.")
class Partner(relay.Node):
    id: relay.NodeID[int]
    name: str
    country_code: str
    party_id: str
    roles: list[PartnerRole]
    version: str | None = strawberry.field(description="OCPI version agreed on")
    status: PartnerStatus
    created_at: datetime
    versions_url: str | None = strawberry.field(
        description="The partner's OCPI versions endpoint (known once it registered)"
    )
    endpoints: list[PartnerEndpoint] = strawberry.field(
        description="The modules the partner offers, from its version details"
    )
    registered_at: datetime | None = strawberry.field(
        description="When the last credentials handshake completed"
    )
    last_push_at: datetime | None = strawberry.field(
        description="When the partner last took what we pushed (OCPI location updates, CDRs)"
    )
    push_failing_since: datetime | None = strawberry.field(
        description="Since when pushes to the partner fail; null while they succeed"
    )
    push_error: str | None = strawberry.field(
        description="Why the last push failed, while they fail (the partner's answer)"
    )
    last_pull_at: datetime | None = strawberry.field(
        description="When the partner last pulled a list (locations, tariffs, CDRs) from us, "
        "to the minute"
    )
    station_local_lists: bool = strawberry.field(
        description="Whether the partner's tokens that may be used without asking it (OCPI "
        "whitelist ALWAYS or ALLOWED) go into the local authorization lists of our stations, "
        "so they charge at a station that lost its connection too"
    )
    tokens_pulled_at: datetime | None = strawberry.field(
        description="For a partner that lists its tokens: when the last complete pull of "
        "them began (all of them after each registration, then what changed, every "
        "CPMS_OCPI_TOKEN_PULL_S); null before the first"
    )
    tokens_pull_error: str | None = strawberry.field(
        description="Why the last pull of the partner's tokens failed; null once one completes"
    )
    pending_deliveries: int = strawberry.field(
        description="CDRs of the partner's tokens it has not accepted yet (sent as soon as it "
        "answers)"
    )
    failed_deliveries: int = strawberry.field(
        description="CDRs the partner refused, or that OCPI cannot express: not sent again; "
        "the server log says why"
    )

    @classmethod
    def from_model(cls, model: PartnerView) -> Partner:
        return cls(
            id=model.id,
            name=model.name,
            country_code=model.country_code,
            party_id=model.party_id,
            roles=[PartnerRole(role) for role in model.roles if role in PartnerRole.__members__],
            version=model.version,
            status=PartnerStatus(model.status),
            created_at=model.created_at,
            versions_url=model.versions_url,
            endpoints=[
                PartnerEndpoint(module=each.identifier, role=EndpointRole(each.role), url=each.url)
                for each in model.endpoints
            ],
            registered_at=model.registered_at,
            last_push_at=model.last_push_at,
            push_failing_since=model.push_failing_since,
            push_error=model.push_error,
            last_pull_at=model.last_pull_at,
            station_local_lists=model.station_local_lists,
            tokens_pulled_at=model.tokens_pulled_at,
            tokens_pull_error=model.tokens_pull_error,
            pending_deliveries=model.pending_deliveries,
            failed_deliveries=model.failed_deliveries,
        )

    @strawberry.field(
        description="For a hub: the parties it connects us with and how each stands (what it "
        "sent to our hubclientinfo module), in the order it first told; empty otherwise"
    )
    async def hub_parties(
        self,
        info: Info[Context, None],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[HubParty]:
        page = await roaming.page_hub_parties(
            info.context.principal, self.id, page_request(first, after, last, before)
        )
        return connection(page, HubParty.from_model)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Partner | None]:
        return await nodes_by_id(
            node_ids, partial(roaming.partners_by_ids, info.context.principal), cls.from_model
        )


@strawberry.input(description="A partner who will register with us using the token A we issue.")
class CreatePartnerInput:
    name: str
    country_code: str = strawberry.field(description="ISO 3166-1 alpha-2 of the partner's party")
    party_id: str = strawberry.field(description="The partner's 3-character party id")
    role: PartnerRole = strawberry.field(
        default=PartnerRole.EMSP, description="EMSP, HUB, NSP or SCSP"
    )


@strawberry.input(description="A partner who gave us its versions URL and a token A.")
class RegisterPartnerInput:
    name: str
    country_code: str
    party_id: str
    role: PartnerRole = PartnerRole.EMSP
    versions_url: str = strawberry.field(description="The partner's OCPI versions endpoint")
    token_a: str = strawberry.field(description="The token the partner gave us to register")


@strawberry.type
class PartnerCreated:
    partner: Partner
    token_a: str = strawberry.field(
        description="Hand it to the partner with `versionsUrl`; it is never shown again and "
        "stops working once the partner registered."
    )
    versions_url: str = strawberry.field(description="Our OCPI versions endpoint")


@strawberry.type
class PartnerRegistered:
    partner: Partner


CreatePartnerResult = Annotated[
    PartnerCreated
    | NotAuthenticatedError
    | NotPermittedError
    | InvalidInputError
    | AlreadyExistsError,
    strawberry.union("CreatePartnerResult"),
]
RegisterPartnerResult = Annotated[
    PartnerRegistered
    | NotAuthenticatedError
    | NotPermittedError
    | InvalidInputError
    | AlreadyExistsError
    | PartnerError,
    strawberry.union("RegisterPartnerResult"),
]


@strawberry.input(description="A partner's settings; fields left out stay as they are.")
class UpdatePartnerInput:
    name: str | None = strawberry.UNSET
    station_local_lists: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="True: the partner's tokens that may be used without asking it go into "
        "the local authorization lists of every station of the organization (which the CPMS "
        "then keeps: an update replaces what was sent there by hand); false: they are taken "
        "out again",
    )


@strawberry.type
class PartnerDeleted:
    partner: Partner = strawberry.field(description="The partner as it was")


@strawberry.type
class PartnerSaved:
    partner: Partner


PartnerResult = Annotated[
    PartnerSaved | NotAuthenticatedError | NotPermittedError | NotFoundError | InvalidInputError,
    strawberry.union("PartnerResult"),
]


DeletePartnerResult = Annotated[
    PartnerDeleted | NotAuthenticatedError | NotPermittedError | NotFoundError,
    strawberry.union("DeletePartnerResult"),
]


def _fields(input: CreatePartnerInput | RegisterPartnerInput) -> dict[str, object]:
    return {name: getattr(input, name) for name in vars(input)}


@strawberry.type
class PartnerMutation:
    @strawberry.mutation(
        description="Add a roaming partner who will call us first (admin): it registers at "
        "`versionsUrl` with `tokenA`, shown only here."
    )
    async def create_partner(
        self, info: Info[Context, None], input: CreatePartnerInput
    ) -> CreatePartnerResult:
        runtime = info.context.runtime
        try:
            issued = await roaming.create_partner(
                runtime.unit_of_work(), info.context.principal, _fields(input)
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        assert runtime.roaming_peers is not None
        return PartnerCreated(
            partner=Partner.from_model(issued.partner),
            token_a=issued.token_a,
            versions_url=runtime.roaming_peers.own_versions_url(),
        )

    @strawberry.mutation(
        description="Register with a roaming partner that gave us its versions URL and a token "
        "A (admin): the OCPI credentials handshake runs now; the partner exists only if it "
        "succeeds."
    )
    async def register_partner(
        self, info: Info[Context, None], input: RegisterPartnerInput
    ) -> RegisterPartnerResult:
        runtime = info.context.runtime
        assert runtime.roaming_peers is not None
        try:
            partner = await roaming.register_partner(
                runtime.unit_of_work,
                info.context.principal,
                runtime.roaming_peers,
                runtime.outbound,
                _fields(input),
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return PartnerRegistered(partner=Partner.from_model(partner))

    @strawberry.mutation(
        description="Suspend a roaming partner (admin): its tokens are refused at once and "
        "nothing is sent to it until it is resumed."
    )
    async def suspend_partner(self, info: Info[Context, None], id: relay.GlobalID) -> PartnerResult:
        return await _suspend(info, id, suspended=True)

    @strawberry.mutation(
        description="Resume a suspended roaming partner (admin): connected again if it had "
        "registered, else waiting for its registration."
    )
    async def resume_partner(self, info: Info[Context, None], id: relay.GlobalID) -> PartnerResult:
        return await _suspend(info, id, suspended=False)


async def _suspend(
    info: Info[Context, None], id: relay.GlobalID, *, suspended: bool
) -> PartnerResult:
    try:
        partner = await roaming.suspend_partner(
            info.context.runtime.unit_of_work(),
            info.context.principal,
            local_id(id, "Partner") or 0,
            suspended=suspended,
        )
    except CPMSError as error:
        return problem(error)  # type: ignore[return-value]
    return PartnerSaved(partner=Partner.from_model(partner))


@strawberry.type
class PartnerSettingsMutation:
    @strawberry.mutation(
        description="Rename a roaming partner, or say whether its tokens go into our "
        "stations' local authorization lists (admin)."
    )
    async def update_partner(
        self, info: Info[Context, None], id: relay.GlobalID, input: UpdatePartnerInput
    ) -> PartnerResult:
        try:
            partner = await roaming.update_partner(
                info.context.runtime.unit_of_work(),
                info.context.principal,
                local_id(id, "Partner") or 0,
                given(input),
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return PartnerSaved(partner=Partner.from_model(partner))

    @strawberry.mutation(
        description="Pull the partner's whole token list again (admin), at the next round of "
        "token pulls (within a minute), as after its registration; for a partner that does "
        "not list its tokens, nothing happens."
    )
    async def pull_partner_tokens(
        self, info: Info[Context, None], id: relay.GlobalID
    ) -> PartnerResult:
        try:
            partner = await roaming.pull_tokens_again(
                info.context.runtime.unit_of_work(),
                info.context.principal,
                local_id(id, "Partner") or 0,
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return PartnerSaved(partner=Partner.from_model(partner))

    @strawberry.mutation(
        description="End a roaming partnership (admin): a registered partner is told (OCPI "
        "DELETE at its credentials endpoint), its tokens stop working here at once, and the "
        "partner and the tariffs narrowed to it are removed; sessions keep their history."
    )
    async def delete_partner(
        self, info: Info[Context, None], id: relay.GlobalID
    ) -> DeletePartnerResult:
        runtime = info.context.runtime
        assert runtime.roaming_peers is not None
        try:
            partner = await roaming.delete_partner(
                runtime.unit_of_work,
                info.context.principal,
                runtime.roaming_peers,
                local_id(id, "Partner") or 0,
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return PartnerDeleted(partner=Partner.from_model(partner))


@strawberry.type(description="What a partner's CDRs come to in one currency.")
class SettlementLine:
    currency: str
    cdrs: int = strawberry.field(description="CDRs issued in the period, credit CDRs included")
    credits: int = strawberry.field(
        description="Of those, credit CDRs (a correction: they cancel an earlier CDR)"
    )
    energy_wh: int = strawberry.field(description="Energy charged; a credit CDR takes its back")
    amount_excl_vat_minor: int = strawberry.field(
        description="What the partner owes, excl. VAT, in minor units; credit CDRs subtract"
    )
    amount_incl_vat_minor: int


@strawberry.type(
    description="What a roaming partner owes for the CDRs of its tokens issued in a period "
    "(from inclusive, to exclusive), per currency. The same as CSV: GET "
    "/exports/roaming-settlement.csv?partnerId=…&from=…&to=…"
)
class RoamingSettlement:
    partner: Partner
    from_: datetime = strawberry.field(name="from")
    to: datetime
    lines: list[SettlementLine]

    @classmethod
    def from_model(cls, model: Settlement) -> RoamingSettlement:
        return cls(
            partner=Partner.from_model(model.partner),
            from_=model.period_from,
            to=model.period_to,
            lines=[
                SettlementLine(
                    currency=line.currency,
                    cdrs=line.cdrs,
                    credits=line.credits,
                    energy_wh=line.energy_wh,
                    amount_excl_vat_minor=line.amount_excl_vat_minor,
                    amount_incl_vat_minor=line.amount_incl_vat_minor,
                )
                for line in model.lines
            ],
        )
