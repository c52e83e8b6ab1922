"""Who may do what: the role matrix, in one place. Pure: no I/O.

Every service that reads or changes organization data takes a Principal and asks here first;
the organization itself is enforced by the repositories, which always filter by the
principal's organization."""

from __future__ import annotations

from enum import StrEnum

from app.auth.models import Principal, Role
from app.errors import NotPermitted


class Permission(StrEnum):
    READ_STATIONS = "see stations"  # sites, stations, connectors: what a driver app maps
    READ_NETWORK = "read the network"  # everyone's sessions, live feeds, dashboards
    OPERATE = "operate stations"  # remote commands, approve stations, id tokens
    MANAGE = "manage the organization"  # stations' credentials, users, API keys
    CHARGE = "charge"  # start/stop one's own charging, see one's own sessions
    MANAGE_ORGANIZATIONS = "manage organizations"  # create, change, suspend tenants: platform only


# What a platform key may do on its own: nothing inside an organization.
PLATFORM_GRANTS = frozenset({Permission.MANAGE_ORGANIZATIONS})

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission) - PLATFORM_GRANTS,
    Role.OPERATOR: frozenset(
        {Permission.READ_STATIONS, Permission.READ_NETWORK, Permission.OPERATE, Permission.CHARGE}
    ),
    Role.VIEWER: frozenset({Permission.READ_STATIONS, Permission.READ_NETWORK}),
    Role.DRIVER: frozenset({Permission.READ_STATIONS, Permission.CHARGE}),
}


def may(principal: Principal, permission: Permission) -> bool:
    if principal.is_platform:
        return permission in PLATFORM_GRANTS
    return permission in GRANTS[principal.role]


def require(principal: Principal, permission: Permission) -> None:
    if may(principal, permission):
        return
    if principal.is_platform:
        raise NotPermitted(
            f"a platform key may not {permission} unless it acts on behalf of an organization "
            "(header X-CPMS-Organization: <slug>)"
        )
    raise NotPermitted(f"the {principal.role} role may not {permission}")


def visible_owner(principal: Principal) -> int | None:
    """Whose charging records (sessions, CDRs, payments) the caller may read: None for staff
    who read the whole network, else the driver's own user id."""
    if may(principal, Permission.READ_NETWORK):
        return None
    require(principal, Permission.CHARGE)
    if principal.user_id is None:
        raise NotPermitted("only a signed-in driver has charging records of their own")
    return principal.user_id
