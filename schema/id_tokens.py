"""Id tokens (RFID cards, app tokens, eMAIDs): the type, and the mutations that manage them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info
from strawberry.types.unset import UNSET

from app.auth import service as auth
from app.auth.models import IdTokenView
from app.errors import CPMSError
from schema.auth_types import User
from schema.context import Context
from schema.enums import IdTokenStatus, IdTokenType
from schema.ids import local_id, nodes_by_id
from schema.inputs import given
from schema.management import Deleted, DeleteResult
from schema.problems import (
    AlreadyExistsError,
    InvalidInputError,
    NotAuthenticatedError,
    NotFoundError,
    NotPermittedError,
    problem,
)


@strawberry.type(description="Something that authorizes charging: RFID card, app, eMAID, ...")
class IdToken(relay.Node):
    id: relay.NodeID[int]
    uid: str
    type: IdTokenType
    status: IdTokenStatus
    expires_at: datetime | None
    group_id: str | None
    user_id: strawberry.Private[int | None]
    visual_number: str | None = strawberry.field(description="What is printed on the card.")
    created_at: datetime

    @classmethod
    def from_model(cls, model: IdTokenView) -> IdToken:
        return cls(
            id=model.id,
            uid=model.uid,
            type=IdTokenType(model.type),
            status=IdTokenStatus(model.status),
            expires_at=model.expires_at,
            group_id=model.group_id,
            user_id=model.user_id,
            visual_number=model.visual_number,
            created_at=model.created_at,
        )

    @strawberry.field(description="The person the token belongs to, if any.")
    async def user(self, info: Info[Context, None]) -> User | None:
        if self.user_id is None:
            return None
        user = await info.context.loaders.user.load(self.user_id)
        return User.from_model(user) if user else None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[IdToken | None]:
        return await nodes_by_id(
            node_ids, partial(auth.id_tokens_by_ids, info.context.principal), cls.from_model
        )


@strawberry.input
class IdTokenInput:
    status: IdTokenStatus | None = UNSET
    expires_at: datetime | None = UNSET
    group_id: str | None = UNSET
    user_id: relay.GlobalID | None = UNSET
    visual_number: str | None = UNSET


@strawberry.type
class IdTokenSaved:
    id_token: IdToken


IdTokenResult = Annotated[
    IdTokenSaved
    | NotAuthenticatedError
    | NotPermittedError
    | InvalidInputError
    | NotFoundError
    | AlreadyExistsError,
    strawberry.union("IdTokenResult"),
]


def _token_id(id: relay.GlobalID) -> int:
    return local_id(id, "IdToken") or 0


def _token_values(input: IdTokenInput | None) -> dict[str, Any]:
    values: dict[str, Any] = given(input) if input else {}
    if "user_id" in values:
        values["user_id"] = local_id(values["user_id"], "User")
    return values


@strawberry.type
class IdTokenMutation:
    @strawberry.mutation(description="Register an id token that may charge (operators).")
    async def create_id_token(
        self,
        info: Info[Context, None],
        uid: str,
        type: IdTokenType = IdTokenType.ISO14443,
        input: IdTokenInput | None = None,
    ) -> IdTokenResult:
        context = info.context
        try:
            values = _token_values(input)
            token = await auth.create_id_token(
                context.runtime.unit_of_work(), context.principal, uid, type, values
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return IdTokenSaved(id_token=IdToken.from_model(token))

    @strawberry.mutation(description="Block or unblock a token, set its expiry, group or user.")
    async def update_id_token(
        self, info: Info[Context, None], id: relay.GlobalID, input: IdTokenInput
    ) -> IdTokenResult:
        context = info.context
        try:
            token = await auth.update_id_token(
                context.runtime.unit_of_work(),
                context.principal,
                _token_id(id),
                _token_values(input),
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return IdTokenSaved(id_token=IdToken.from_model(token))

    @strawberry.mutation(description="Remove an id token (operators).")
    async def delete_id_token(self, info: Info[Context, None], id: relay.GlobalID) -> DeleteResult:
        context = info.context
        try:
            await auth.delete_id_token(
                context.runtime.unit_of_work(), context.principal, _token_id(id)
            )
        except CPMSError as error:
            return problem(error)  # type: ignore[return-value]
        return Deleted(id=strawberry.ID(str(id)))
