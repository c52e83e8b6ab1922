"""Roaming partners (OCPI)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.roaming import service as roaming
from app.roaming.models import PartnerView
from schema.context import Context
from schema.enums import PartnerRole, PartnerStatus
from schema.ids import nodes_by_id


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

    @classmethod
    def from_model(cls, model: PartnerView) -> Partner:
        return cls(
            id=model.id,
            name=model.name,
            country_code=model.country_code,
            party_id=model.party_id,
            roles=[PartnerRole(role) for role in model.roles],
            version=model.version,
            status=PartnerStatus(model.status),
            created_at=model.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Partner | None]:
        return await nodes_by_id(
            node_ids, partial(roaming.partners_by_ids, info.context.principal), cls.from_model
        )
