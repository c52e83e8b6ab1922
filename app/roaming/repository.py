"""Every query of the roaming domain."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from piccolo.columns.combination import Combinable

from app.auth.models import ACCEPTED, Whitelist
from app.pagination import Page, PageRequest
from app.roaming.models import (
    CallingPartner,
    HubPartyView,
    PartnerEndpoint,
    PartnerStatus,
    PartnerView,
    PartyRole,
    PushTarget,
    TokenSource,
)
from app.timeparse import utcnow
from db.paging import page_by_id
from db.tables import (
    ChargingStation,
    HubParty,
    IdToken,
    Organization,
    Partner,
    StationLocalList,
    TariffAssignment,
)

_COLUMNS = (
    Partner.id,
    Partner.name,
    Partner.country_code,
    Partner.party_id,
    Partner.roles,
    Partner.version,
    Partner.status,
    Partner.created_at,
    Partner.versions_url,
    Partner.endpoints,
    Partner.registered_at,
    Partner.last_push_at,
    Partner.push_failing_since,
    Partner.push_error,
    Partner.last_pull_at,
    Partner.station_local_lists,
    Partner.tokens_pulled_at,
    Partner.tokens_pull_error,
)


def _json_list(value: Any) -> list[Any]:
    found = json.loads(value) if isinstance(value, str) else value
    return list(found or [])


def _endpoint_urls(endpoints: Any, role: str) -> dict[str, str]:
    """Of a partner's stored endpoints, the URL of each module where it plays `role`."""
    found = [PartnerEndpoint(**each) for each in _json_list(endpoints)]
    return {each.identifier: each.url for each in found if each.role == role}


def _json_object(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    found = json.loads(value) if isinstance(value, str) else value
    return dict(found) if isinstance(found, dict) else None


def _role_names(roles: list[Any]) -> list[str]:
    """The OCPI roles a partner plays (stored as CredentialsRoles, or as bare names)."""
    return [role if isinstance(role, str) else role["role"] for role in roles]


def _partner(row: dict[str, Any]) -> PartnerView:
    roles = _json_list(row.pop("roles"))
    endpoints = [PartnerEndpoint(**each) for each in _json_list(row.pop("endpoints"))]
    return PartnerView(
        **row,
        roles=_role_names(roles),
        endpoints=endpoints,
    )


def endpoints_json(endpoints: Sequence[PartnerEndpoint]) -> str:
    return json.dumps(
        [{"identifier": e.identifier, "role": e.role, "url": e.url} for e in endpoints]
    )


def roles_json(roles: Sequence[PartyRole]) -> str:
    return json.dumps(
        [
            {"role": r.role, "country_code": r.country_code, "party_id": r.party_id, "name": r.name}
            for r in roles
        ]
    )


async def page_partners(organization_id: int, request: PageRequest) -> Page[PartnerView]:
    query = Partner.select(*_COLUMNS).where(Partner.organization == organization_id)
    return await page_by_id(query, Partner.id, request, _partner)


async def partners_by_ids(organization_id: int, partner_ids: Sequence[int]) -> list[PartnerView]:
    rows = await Partner.select(*_COLUMNS).where(
        (Partner.organization == organization_id) & Partner.id.is_in(list(partner_ids))
    )
    return [_partner(row) for row in rows]


async def partner_by_id(partner_id: int) -> PartnerView | None:
    row = await Partner.select(*_COLUMNS).where(Partner.id == partner_id).first()
    return _partner(row) if row else None


async def party_taken(organization_id: int, country_code: str, party_id: str) -> bool:
    return await Partner.exists().where(
        (Partner.organization == organization_id)
        & (Partner.country_code == country_code)
        & (Partner.party_id == party_id)
    )


async def create_partner(organization_id: int, values: dict[str, Any]) -> int:
    rows = await Partner.insert(Partner(organization=organization_id, **values)).returning(
        Partner.id
    )
    return int(rows[0]["id"])


async def partner_with_token(digests: Sequence[str]) -> tuple[CallingPartner, str] | None:
    """The unsuspended partner one of these token digests belongs to, and that digest."""
    rows = await Partner.select(
        Partner.id,
        Partner.organization,
        Partner.country_code,
        Partner.party_id,
        Partner.roles,
        Partner.incoming_token_hash,
        Partner.registration_token_hash,
    ).where(
        (
            (Partner.incoming_token_hash.is_in(list(digests)))
            | (Partner.registration_token_hash.is_in(list(digests)))
        )
        & (Partner.status != PartnerStatus.SUSPENDED)
    )
    for row in rows:
        if row["incoming_token_hash"] in digests:
            registered, digest = True, row["incoming_token_hash"]
        else:
            registered, digest = False, row["registration_token_hash"]
        roles = _json_list(row["roles"])
        caller = CallingPartner(
            partner_id=row["id"],
            organization_id=row["organization"],
            registered=registered,
            country_code=row["country_code"],
            party_id=row["party_id"],
            roles=tuple(_role_names(roles)),
        )
        return caller, digest
    return None


async def partner_status(partner_id: int) -> str | None:
    row = await Partner.select(Partner.status).where(Partner.id == partner_id).first()
    return str(row["status"]) if row else None


async def update_partner(partner_id: int, values: dict[Any, Any], *, token_digest: str) -> bool:
    """Change a partner's row if the token it authenticated with is still its token (two
    handshakes at once: one wins); whether it did."""
    rows = (
        await Partner.update(values)
        .where(
            (Partner.id == partner_id)
            & (
                (Partner.incoming_token_hash == token_digest)
                | (Partner.registration_token_hash == token_digest)
            )
        )
        .returning(Partner.id)
    )
    return bool(rows)


async def set_partner(partner_id: int, values: dict[Any, Any]) -> None:
    await Partner.update(values).where(Partner.id == partner_id)


async def has_outgoing_token(partner_id: int) -> bool:
    return await Partner.exists().where(
        (Partner.id == partner_id) & Partner.outgoing_token.is_not_null()
    )


async def push_targets(now: datetime) -> list[PushTarget]:
    """Connected partners with a locations, sessions, CDRs or tariffs receiver whose next
    push is due."""
    rows = await Partner.select(
        Partner.id,
        Partner.organization,
        Partner.endpoints,
        Partner.outgoing_token,
        Partner.push_cursor,
        Partner.next_push_at,
        Partner.country_code,
        Partner.party_id,
        Partner.name,
        Partner.push_failing_since,
        Partner.registered_at,
        Partner.pushed_tariffs,
        Partner.location_cursor,
        Partner.version,
    ).where(
        (Partner.status == "connected")
        & Partner.outgoing_token.is_not_null()
        & (Partner.next_push_at.is_null() | (Partner.next_push_at <= now))
    )
    targets = []
    for row in rows:
        receivers = _endpoint_urls(row["endpoints"], "RECEIVER")
        if {"locations", "cdrs", "sessions", "tariffs"} & set(receivers):
            targets.append(
                PushTarget(
                    partner_id=row["id"],
                    organization_id=row["organization"],
                    locations_url=receivers.get("locations"),
                    token=row["outgoing_token"],
                    cursor=row["push_cursor"],
                    cdrs_url=receivers.get("cdrs"),
                    sessions_url=receivers.get("sessions"),
                    tariffs_url=receivers.get("tariffs"),
                    pushed_tariffs=_json_object(row["pushed_tariffs"]),
                    location_cursor=row["location_cursor"],
                    country_code=row["country_code"],
                    party_id=row["party_id"],
                    name=row["name"],
                    failing_since=row["push_failing_since"],
                    registered_at=row["registered_at"],
                    version=row["version"],
                )
            )
    return targets


async def record_push_failure(
    partner_id: int, reason: str, failed_at: datetime, retry_at: datetime
) -> None:
    """A failed push: why, when to try again, and since when it fails (kept from the first)."""
    await Partner.update(
        {
            Partner.push_error: reason[:2000],
            Partner.next_push_at: retry_at,
            Partner.push_failing_since: failed_at,
        }
    ).where((Partner.id == partner_id) & Partner.push_failing_since.is_null())
    await Partner.update({Partner.push_error: reason[:2000], Partner.next_push_at: retry_at}).where(
        Partner.id == partner_id
    )


async def record_pull(partner_id: int, now: datetime, resolution: timedelta) -> None:
    """Note a pull, at most once per `resolution` (a crawl of many pages writes once)."""
    await Partner.update({Partner.last_pull_at: now}).where(
        (Partner.id == partner_id)
        & (Partner.last_pull_at.is_null() | (Partner.last_pull_at < now - resolution))
    )


async def outgoing_token(partner_id: int) -> str | None:
    row = await Partner.select(Partner.outgoing_token).where(Partner.id == partner_id).first()
    return row["outgoing_token"] if row else None


async def delete_partner(partner_id: int) -> None:
    await Partner.delete().where(Partner.id == partner_id)


async def forget_partner(partner_id: int) -> None:
    """A partner and what only it gave meaning to: its tokens (which would otherwise lose
    their issuer and look like the operator's own) and the tariffs narrowed to it. Sessions
    and reservations keep their history without it."""
    await IdToken.delete().where(IdToken.partner == partner_id)
    await TariffAssignment.delete().where(TariffAssignment.partner == partner_id)
    await Partner.delete().where(Partner.id == partner_id)


async def credentials_of(partner_id: int) -> tuple[str | None, str | None]:
    """The partner's credentials endpoint and the token we call it with, while registered."""
    row = (
        await Partner.select(Partner.endpoints, Partner.outgoing_token)
        .where(Partner.id == partner_id)
        .first()
    )
    if row is None:
        return None, None
    endpoints = [PartnerEndpoint(**each) for each in _json_list(row["endpoints"])]
    url = next((e.url for e in endpoints if e.identifier == "credentials"), None)
    return url, row["outgoing_token"]


async def organization_identity(organization_id: int) -> tuple[str, str | None, str | None]:
    """An organization's name, country code and party id."""
    row = (
        await Organization.select(
            Organization.name, Organization.country_code, Organization.party_id
        )
        .where(Organization.id == organization_id)
        .first()
    )
    assert row is not None
    return row["name"], row["country_code"], row["party_id"]


async def organization_id_by_slug(slug: str) -> int | None:
    row = await Organization.select(Organization.id).where(Organization.slug == slug).first()
    return int(row["id"]) if row else None


_TOKEN_SENDER_COLUMNS = (
    Partner.id,
    Partner.organization,
    Partner.endpoints,
    Partner.outgoing_token,
    Partner.country_code,
    Partner.party_id,
    Partner.name,
    Partner.version,
    Partner.roles,
    Partner.registered_at,
    Partner.tokens_pulled_at,
)
_CALLABLE = (Partner.status == "connected") & Partner.outgoing_token.is_not_null()


def _token_source(row: dict[str, Any]) -> TokenSource | None:
    """A partner row as a source of tokens; None when it has no tokens endpoint (sender)."""
    url = _endpoint_urls(row["endpoints"], "SENDER").get("tokens")
    if url is None:
        return None
    target = PushTarget(
        partner_id=row["id"],
        organization_id=row["organization"],
        locations_url=None,
        token=row["outgoing_token"],
        cursor=None,
        country_code=row["country_code"],
        party_id=row["party_id"],
        name=row["name"],
        registered_at=row["registered_at"],
        version=row["version"],
    )
    roles = tuple(_role_names(_json_list(row["roles"])))
    return TokenSource(target, url, roles, row["tokens_pulled_at"])


async def token_issuer_target(partner_id: int) -> tuple[PushTarget, str] | None:
    """A connected partner that sends tokens (its tokens endpoint, OCPI sender): where to
    ask it about them and with which token. None when it cannot be asked."""
    row = await (
        Partner.select(*_TOKEN_SENDER_COLUMNS).where((Partner.id == partner_id) & _CALLABLE).first()
    )
    source = _token_source(row) if row is not None else None
    return (source.target, source.tokens_url) if source is not None else None


async def token_sources(pulled_before: datetime) -> list[TokenSource]:
    """Connected partners that list their tokens and were not pulled from since
    `pulled_before` (or never), those never pulled from first."""
    rows = await Partner.select(*_TOKEN_SENDER_COLUMNS).where(
        _CALLABLE
        & (Partner.tokens_pulled_at.is_null() | (Partner.tokens_pulled_at < pulled_before))
    )
    found = [source for source in map(_token_source, rows) if source is not None]
    return sorted(found, key=lambda each: (each.pulled_at is not None, each.target.partner_id))


async def record_token_pull(
    partner_id: int, registered_at: datetime | None, began: datetime | None, error: str | None
) -> None:
    """How a pull of the partner's tokens ended: complete (`began`: when it began), or
    failed (`error`). Nothing is recorded once the partner registered anew meanwhile."""
    values: dict[Any, Any] = {Partner.tokens_pull_error: error}
    if began is not None:
        values[Partner.tokens_pulled_at] = began
    await Partner.update(values).where(
        (Partner.id == partner_id) & _same_registration(registered_at)
    )


def _same_registration(registered_at: datetime | None) -> Combinable:
    if registered_at is None:
        return Partner.registered_at.is_null()
    return Partner.registered_at == registered_at


_HUB_PARTY_COLUMNS = (
    HubParty.country_code,
    HubParty.party_id,
    HubParty.role,
    HubParty.status,
    HubParty.last_updated,
)


async def page_hub_parties(
    organization_id: int, partner_id: int, request: PageRequest
) -> Page[HubPartyView]:
    """What a hub told about its parties, in the order it first told."""
    query = HubParty.select(HubParty.id, *_HUB_PARTY_COLUMNS).where(
        (HubParty.organization == organization_id) & (HubParty.partner == partner_id)
    )

    def view(row: dict[str, Any]) -> HubPartyView:
        return HubPartyView(**{name: value for name, value in row.items() if name != "id"})

    return await page_by_id(query, HubParty.id, request, view)


async def hub_party(partner_id: int, country_code: str, party_id: str) -> HubPartyView | None:
    row = await (
        HubParty.select(*_HUB_PARTY_COLUMNS)
        .where(
            (HubParty.partner == partner_id)
            & (HubParty.country_code == country_code)
            & (HubParty.party_id == party_id)
        )
        .first()
    )
    return HubPartyView(**row) if row else None


async def hub_party_count(partner_id: int) -> int:
    return int(await HubParty.count().where(HubParty.partner == partner_id))


async def save_hub_party(organization_id: int, partner_id: int, party: HubPartyView) -> None:
    """Keep what the hub says about one of its parties (replacing what it said before)."""
    values: dict[Any, Any] = {
        HubParty.role: party.role,
        HubParty.status: party.status,
        HubParty.last_updated: party.last_updated,
    }
    updated = (
        await HubParty.update(values)
        .where(
            (HubParty.partner == partner_id)
            & (HubParty.country_code == party.country_code)
            & (HubParty.party_id == party.party_id)
        )
        .returning(HubParty.id)
    )
    if not updated:
        await HubParty.insert(
            HubParty(
                organization=organization_id,
                partner=partner_id,
                country_code=party.country_code,
                party_id=party.party_id,
                role=party.role,
                status=party.status,
                last_updated=party.last_updated,
            )
        )


# --- Stations' local authorization lists ---

# Tokens that may be used without asking their issuer: what stations' local lists hold.
LISTED_WHITELISTS = (Whitelist.ALWAYS, Whitelist.ALLOWED)


def _listing(organization_id: int) -> Combinable:
    """The organization's partners whose tokens go into its stations' local lists."""
    return (
        (Partner.organization == organization_id)
        & (Partner.station_local_lists == True)  # noqa: E712
        & (Partner.status != PartnerStatus.SUSPENDED)
    )


def _listing_partners(organization_id: int) -> Combinable:
    """Tokens of those partners."""
    return IdToken.partner.is_in(Partner.select(Partner.id).where(_listing(organization_id)))


async def local_list_organizations() -> list[int]:
    """Organizations whose stations' lists we keep: one of their partners' tokens go in
    them, or a station's list still has to be emptied of them."""
    listing = await Partner.select(Partner.organization).where(
        Partner.station_local_lists == True  # noqa: E712
    )
    emptying = await StationLocalList.select(StationLocalList.station.organization).where(
        StationLocalList.synced_to.is_null()
    )
    return sorted(
        {row["organization"] for row in listing} | {row["station.organization"] for row in emptying}
    )


async def lists_partner_tokens(organization_id: int) -> bool:
    """Do some of the organization's partners' tokens go into its stations' lists?"""
    return await Partner.exists().where(_listing(organization_id))


async def latest_token_change(organization_id: int, upto: datetime) -> datetime | None:
    """When a token that belongs in the organization's lists last changed, up to `upto`."""
    # The newest row rather than MAX(): an aggregate loses the column's type on SQLite.
    row = (
        await IdToken.select(IdToken.changed_at)
        .where(
            (IdToken.organization == organization_id)
            & _listing_partners(organization_id)
            & (IdToken.changed_at <= upto)
        )
        .order_by(IdToken.changed_at, ascending=False)
        .first()
    )
    return row["changed_at"] if row else None


async def stations_for_local_lists(organization_id: int) -> list[dict[str, Any]]:
    """The organization's connected stations, with what their local list was sent (None
    columns for a station never sent one)."""
    stations = await ChargingStation.select(
        ChargingStation.id, ChargingStation.identity, ChargingStation.last_boot_at
    ).where(
        (ChargingStation.organization == organization_id) & (ChargingStation.connected == True)  # noqa: E712
    )
    if not stations:
        return []
    lists = {
        row["station"]: row
        for row in await StationLocalList.select().where(
            StationLocalList.station.is_in([station["id"] for station in stations])
        )
    }
    return [
        {**station, "list": lists.get(station["id"])}
        for station in sorted(stations, key=lambda station: station["id"])
    ]


async def listed_tokens(organization_id: int, now: datetime, upto: datetime) -> list[str]:
    """The uids a whole local list holds: valid tokens of listing partners that may be used
    without asking them, as of their changes up to `upto` (later ones follow as changes)."""
    rows = await IdToken.select(IdToken.uid).where(
        (IdToken.organization == organization_id)
        & _listing_partners(organization_id)
        & (IdToken.changed_at.is_null() | (IdToken.changed_at <= upto))
        & IdToken.whitelist.is_in(list(LISTED_WHITELISTS))
        & (IdToken.status == ACCEPTED)
        & (IdToken.expires_at.is_null() | (IdToken.expires_at > now))
    )
    return sorted({row["uid"] for row in rows})


async def changed_tokens(
    organization_id: int, after: datetime, upto: datetime
) -> list[dict[str, Any]]:
    """Listing partners' tokens that changed in (after, upto]."""
    return list(
        await IdToken.select(IdToken.uid, IdToken.status, IdToken.whitelist, IdToken.expires_at)
        .where(
            (IdToken.organization == organization_id)
            & _listing_partners(organization_id)
            & (IdToken.changed_at > after)
            & (IdToken.changed_at <= upto)
        )
        .order_by(IdToken.changed_at)
    )


def _lists_of_organization(organization_id: int) -> Combinable:
    """The local lists of the organization's stations."""
    return StationLocalList.station.is_in(
        ChargingStation.select(ChargingStation.id).where(
            ChargingStation.organization == organization_id
        )
    )


async def local_lists_of(organization_id: int, station_ids: list[int]) -> list[dict[str, Any]]:
    if not station_ids:
        return []
    return list(
        await StationLocalList.select().where(
            _lists_of_organization(organization_id) & StationLocalList.station.is_in(station_ids)
        )
    )


async def save_local_list(
    station_id: int, values: dict[str, Any], *, generation: int | None = None
) -> None:
    """What a station's list was sent, and how the attempt went. `generation`: the list's
    generation when what was sent was read; a reset since (resend_local_lists) wins, and only
    the version and the attempt's time are kept."""
    values = {**values, "updated_at": utcnow()}
    where: Combinable = StationLocalList.station == station_id
    if generation is not None:
        where &= StationLocalList.generation == generation
    updated = (
        await StationLocalList.update(
            {getattr(StationLocalList, name): value for name, value in values.items()}
        )
        .where(where)
        .returning(StationLocalList.id)
    )
    if updated:
        return
    if await StationLocalList.exists().where(StationLocalList.station == station_id):
        kept: dict[Any, Any] = {
            StationLocalList.version: values["version"],
            StationLocalList.updated_at: values["updated_at"],
        }
        await StationLocalList.update(kept).where(StationLocalList.station == station_id)
    else:
        await StationLocalList.insert(StationLocalList(station=station_id, **values))


async def resend_local_lists(organization_id: int) -> None:
    """Every list of the organization's stations gets a whole update next (which partners'
    tokens belong in them changed)."""
    reset: dict[Any, Any] = {
        StationLocalList.synced_to: None,
        StationLocalList.generation: StationLocalList.generation + 1,
    }
    await StationLocalList.update(reset).where(_lists_of_organization(organization_id))
