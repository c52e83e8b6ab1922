"""Use cases of the auth domain: authorizing id tokens, provisioning them."""

from __future__ import annotations

from app.auth import repository
from app.auth.models import ACCEPTED, EXPIRED, RFID, UNKNOWN, TokenVerdict
from app.errors import AlreadyExists, NotFound
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork


async def authorize_token(
    organization_id: int, uid: str, token_type: str | None = None
) -> TokenVerdict:
    """May this token charge at a station of this organization? Unknown tokens are refused."""
    row = await repository.find_token(organization_id, uid, token_type)
    if row is None:
        return TokenVerdict(status=UNKNOWN)
    status = str(row["status"])
    expires_at = row["expires_at"]
    if status == ACCEPTED and expires_at is not None and expires_at <= utcnow():
        status = EXPIRED
    return TokenVerdict(
        status=status,
        token_id=int(row["id"]),
        user_id=row["user"],
        group_id=row["group_id"],
        expires_at=expires_at,
    )


async def add_token(
    uow: UnitOfWork,
    organization_slug: str,
    uid: str,
    token_type: str = RFID,
    user_email: str | None = None,
    group_id: str | None = None,
) -> int:
    """Register an id token (RFID card, app token, ...) that may charge."""
    async with uow:
        organization_id = await repository.organization_id_by_slug(organization_slug)
        if organization_id is None:
            raise NotFound(f"no organization {organization_slug!r}")
        if await repository.find_token(organization_id, uid, token_type) is not None:
            raise AlreadyExists(f"id token {uid!r} ({token_type}) already exists")
        user_id = None
        if user_email is not None:
            user_id = await repository.user_id_by_email(organization_id, user_email)
            if user_id is None:
                raise NotFound(f"no user {user_email!r} in {organization_slug!r}")
        return await repository.create_token(organization_id, uid, token_type, user_id, group_id)
