"""Every query of the auth domain."""

from __future__ import annotations

from typing import Any

from db.tables import IdToken, Organization, User


async def find_token(
    organization_id: int, uid: str, token_type: str | None
) -> dict[str, Any] | None:
    """The token with this uid (and type, when the station says it), or None."""
    query = IdToken.select(
        IdToken.id,
        IdToken.status,
        IdToken.expires_at,
        IdToken.group_id,
        IdToken.user,
    ).where((IdToken.organization == organization_id) & (IdToken.uid == uid))
    if token_type is not None:
        query = query.where(IdToken.type == token_type)
    return await query.order_by(IdToken.id).first()


async def organization_id_by_slug(slug: str) -> int | None:
    row = await Organization.select(Organization.id).where(Organization.slug == slug).first()
    return int(row["id"]) if row else None


async def user_id_by_email(organization_id: int, email: str) -> int | None:
    row = (
        await User.select(User.id)
        .where((User.organization == organization_id) & (User.email == email))
        .first()
    )
    return int(row["id"]) if row else None


async def create_token(
    organization_id: int, uid: str, token_type: str, user_id: int | None, group_id: str | None
) -> int:
    token = IdToken(
        organization=organization_id, uid=uid, type=token_type, user=user_id, group_id=group_id
    )
    await token.save()
    return int(token.id)
