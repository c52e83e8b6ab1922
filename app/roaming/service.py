"""Use cases of the roaming domain: partners and the credentials handshake (OCPI 2.2.1 §7)
in both directions.

A partner who calls us first gets a token A from `create_partner`; with it they send their
credentials, we look up their endpoints with the token they gave us and answer with a token
of our own for them, and token A stops working. In the other direction (`register_partner`)
we do the same with the token A a partner gave us. Tokens partners call us with are kept only
as digests; the token we call a partner with is kept as it is, since we must send it."""

from __future__ import annotations

import dataclasses
import logging
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from app.auth import service as auth
from app.auth.access import Permission, require
from app.auth.credentials import digest
from app.auth.models import PartnerToken, Principal
from app.auth.organizations import checked_country_code, checked_party_id
from app.billing import service as billing
from app.errors import AlreadyExists, InvalidInput, NotFound
from app.outbound import OutboundPolicy
from app.pagination import Page, PageRequest
from app.roaming import repository
from app.roaming.errors import (
    MissingEndpoints,
    PartnerUnreachable,
    RegistrationState,
    TooManyParties,
    Unsendable,
)
from app.roaming.models import (
    CallingPartner,
    Cdrs,
    HubPartyView,
    IssuedPartner,
    Locations,
    PartnerRole,
    PartnerStatus,
    PartnerView,
    PartyRole,
    PeerCredentials,
    PeerVersion,
    Registration,
    SessionReport,
    Sessions,
    Settlement,
    Tariffs,
)
from app.roaming.peers import RoamingPeers, own_credentials
from app.sessions import service as sessions
from app.sessions.models import ACTIVE, PartnerSession
from app.stations import service as stations
from app.tariffs import service as tariffs
from app.tariffs.models import ConnectorPlace
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 200
# The roles a partner of a CPO plays (a CPO's partners are never CPOs themselves here).
PARTNER_ROLES = frozenset({PartnerRole.EMSP, PartnerRole.HUB, PartnerRole.NSP, PartnerRole.SCSP})


def new_token() -> str:
    """A credentials token: 256 random bits as 43 printable characters (OCPI allows 64)."""
    return secrets.token_urlsafe(32)


async def page_partners(principal: Principal, request: PageRequest) -> Page[PartnerView]:
    """The organization's roaming partners in the order they were added."""
    require(principal, Permission.READ_NETWORK)
    page = await repository.page_partners(principal.organization_id, request)
    return dataclasses.replace(page, items=await _with_deliveries(page.items))


async def partners_by_ids(
    principal: Principal, partner_ids: Sequence[int]
) -> dict[int, PartnerView]:
    require(principal, Permission.READ_NETWORK)
    found = await repository.partners_by_ids(principal.organization_id, partner_ids)
    return {partner.id: partner for partner in await _with_deliveries(found)}


async def page_hub_parties(
    principal: Principal, partner_id: int, request: PageRequest
) -> Page[HubPartyView]:
    """What a hub told about the parties it connects us with (nothing, for a partner that is
    no hub)."""
    require(principal, Permission.READ_NETWORK)
    return await repository.page_hub_parties(principal.organization_id, partner_id, request)


async def _with_deliveries(partners: Sequence[PartnerView]) -> list[PartnerView]:
    """Partners with where the delivery of their CDRs stands."""
    deliveries = await billing.partner_deliveries([partner.id for partner in partners])
    return [
        dataclasses.replace(
            partner,
            pending_deliveries=deliveries[partner.id].pending,
            failed_deliveries=deliveries[partner.id].refused,
        )
        for partner in partners
    ]


def _checked_party(fields: dict[str, Any]) -> dict[str, Any]:
    name = str(fields.get("name") or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"name: 1 to {MAX_NAME_LENGTH} characters")
    country = checked_country_code(fields.get("country_code"))
    party = checked_party_id(fields.get("party_id"))
    role = PartnerRole(fields.get("role") or PartnerRole.EMSP)
    if role not in PARTNER_ROLES:
        raise InvalidInput("role: EMSP, HUB, NSP or SCSP")
    return {
        "name": name,
        "country_code": country,
        "party_id": party,
        "roles": repository.roles_json(
            [PartyRole(role=role.value, country_code=country, party_id=party, name=name)]
        ),
    }


async def own_identity(organization_id: int) -> PartyRole:
    """Who the organization is to partners: its OCPI role, party and name."""
    name, country, party = await repository.organization_identity(organization_id)
    if country is None or party is None:
        raise InvalidInput(
            "the organization has no roaming identity yet: set its countryCode and partyId"
        )
    return PartyRole(role=PartnerRole.CPO.value, country_code=country, party_id=party, name=name)


async def _add_partner(
    uow: UnitOfWork, organization_id: int, fields: dict[str, Any]
) -> IssuedPartner:
    values = _checked_party(fields)
    token_a = new_token()
    async with uow:
        await own_identity(organization_id)
        if await repository.party_taken(
            organization_id, values["country_code"], values["party_id"]
        ):
            raise AlreadyExists(
                f"{values['country_code']}*{values['party_id']} is a partner already"
            )
        partner_id = await repository.create_partner(
            organization_id,
            {
                **values,
                "status": PartnerStatus.PENDING.value,
                "registration_token_hash": digest(token_a),
            },
        )
        partner = await repository.partner_by_id(partner_id)
    assert partner is not None
    return IssuedPartner(partner=partner, token_a=token_a)


async def create_partner(
    uow: UnitOfWork, principal: Principal, fields: dict[str, Any]
) -> IssuedPartner:
    """A partner who will register with us: the token A to hand over (shown only here)."""
    require(principal, Permission.MANAGE)
    return await _add_partner(uow, principal.organization_id, fields)


async def provision_partner(
    uow: UnitOfWork, organization_slug: str, fields: dict[str, Any]
) -> IssuedPartner:
    """The same, from the command line."""
    async with uow:
        organization_id = await repository.organization_id_by_slug(organization_slug)
    if organization_id is None:
        raise NotFound(f"no organization {organization_slug!r}")
    return await _add_partner(uow, organization_id, fields)


async def calling_partner(tokens: Sequence[str]) -> tuple[CallingPartner, str] | None:
    """Who calls with one of these tokens (the header's value, decoded or as it is) and the
    token that matched; None for no partner or a suspended one."""
    digests = {digest(token): token for token in tokens}
    found = await repository.partner_with_token(list(digests))
    if found is None:
        return None
    caller, matched = found
    return caller, digests[matched]


def _party_of(caller: CallingPartner, theirs: PeerCredentials) -> PartyRole:
    """The role in their credentials that is the party the token was issued to."""
    for role in theirs.roles:
        same = (role.country_code.upper(), role.party_id.upper())
        if same == (caller.country_code, caller.party_id):
            return role
    raise InvalidInput(
        f"roles: none is {caller.country_code}*{caller.party_id}, the party this token is for"
    )


async def accept_registration(
    unit_of_work: UnitOfWorkFactory,
    peers: RoamingPeers,
    caller: CallingPartner,
    token: str,
    theirs: PeerCredentials,
    *,
    version: str,
    update: bool,
) -> Registration:
    """The partner's credentials (POST with token A, or PUT to update once registered): their
    endpoints are looked up with their token, then ours are answered with a new token for
    them; the token they called with stops working. `version`: the OCPI version they
    called in, which becomes the one agreed."""
    if update != caller.registered:
        raise RegistrationState(
            "registered already: update the credentials with PUT"
            if caller.registered
            else "not registered yet: register with POST"
        )
    party = _party_of(caller, theirs)
    agreed = await peers.discover(theirs.url, theirs.token, version)
    identity = await own_identity(caller.organization_id)
    ours = new_token()
    async with unit_of_work():
        changed = await repository.update_partner(
            caller.partner_id,
            {
                **_registered_values(agreed, theirs),
                "name": party.name[:MAX_NAME_LENGTH] or caller.party_id,
                "incoming_token_hash": digest(ours),
                "registration_token_hash": None,
            },
            token_digest=digest(token),
        )
    if not changed:
        raise RegistrationState("the token was replaced meanwhile by another handshake")
    return Registration(token=ours, identity=identity)


def _registered_values(version: PeerVersion, theirs: PeerCredentials) -> dict[str, Any]:
    return {
        "version": version.version,
        "versions_url": theirs.url,
        "endpoints": repository.endpoints_json(version.endpoints),
        "roles": repository.roles_json(theirs.roles),
        "outgoing_token": theirs.token,
        "status": PartnerStatus.CONNECTED.value,
        "registered_at": utcnow(),
        # A new registration (a new version, new endpoints) starts with a whole pull.
        "tokens_pulled_at": None,
        "tokens_pull_error": None,
    }


async def current_registration(caller: CallingPartner, token: str) -> Registration:
    """Our credentials as the partner sees them: the token it calls us with."""
    if not caller.registered:
        raise RegistrationState("not registered yet: register with POST")
    return Registration(token=token, identity=await own_identity(caller.organization_id))


async def unregister(unit_of_work: UnitOfWorkFactory, caller: CallingPartner, token: str) -> None:
    """The partner ends the connection: no token works any more, in either direction, until
    a new token A is issued."""
    if not caller.registered:
        raise RegistrationState("not registered yet: nothing to unregister")
    async with unit_of_work():
        await repository.update_partner(
            caller.partner_id,
            {
                "incoming_token_hash": None,
                "outgoing_token": None,
                "status": PartnerStatus.PENDING.value,
            },
            token_digest=digest(token),
        )


async def register_partner(
    unit_of_work: UnitOfWorkFactory,
    principal: Principal,
    peers: RoamingPeers,
    outbound: OutboundPolicy,
    fields: dict[str, Any],
) -> PartnerView:
    """Register with a partner who gave us its versions URL and a token A: we find its
    credentials endpoint, send our credentials with a new token for it, and keep the token
    it answers with for our calls. The partner exists only if the handshake succeeds."""
    require(principal, Permission.MANAGE)
    values = _checked_party(fields)
    versions_url = str(fields.get("versions_url") or "").strip()
    outbound.check_url(versions_url, "versionsUrl")
    token_a = str(fields.get("token_a") or "").strip()
    if not re.fullmatch(r"[\x21-\x7e]{1,64}", token_a):
        raise InvalidInput("tokenA: 1 to 64 printable characters without spaces")
    organization_id = principal.organization_id
    async with unit_of_work():
        identity = await own_identity(organization_id)
        if await repository.party_taken(
            organization_id, values["country_code"], values["party_id"]
        ):
            raise AlreadyExists(
                f"{values['country_code']}*{values['party_id']} is a partner already"
            )
    version = await peers.discover(versions_url, token_a)
    credentials_url = version.url_of("credentials")
    if credentials_url is None:
        raise MissingEndpoints("the partner's version details list no credentials endpoint")
    token_b = new_token()
    # The partner checks our endpoints with token B before it answers: the row must exist.
    async with unit_of_work():
        partner_id = await repository.create_partner(
            organization_id,
            {
                **values,
                "status": PartnerStatus.PENDING.value,
                "versions_url": versions_url,
                "incoming_token_hash": digest(token_b),
            },
        )
    try:
        theirs = await peers.exchange_credentials(
            credentials_url,
            token_a,
            own_credentials(peers, token_b, identity),
            version=version.version,
        )
    except BaseException:
        async with unit_of_work():
            await repository.delete_partner(partner_id)
        raise
    async with unit_of_work():
        await repository.set_partner(
            partner_id, {**_registered_values(version, theirs), "versions_url": versions_url}
        )
        partner = await repository.partner_by_id(partner_id)
    assert partner is not None
    return partner


async def pull_tokens_again(uow: UnitOfWork, principal: Principal, partner_id: int) -> PartnerView:
    """Have the partner's whole token list pulled again at the next round of token pulls, as
    after a registration (tokens lost here, or repaired at the partner)."""
    require(principal, Permission.MANAGE)
    async with uow:
        if not await repository.partners_by_ids(principal.organization_id, [partner_id]):
            raise NotFound(f"no partner {partner_id}")
        await repository.set_partner(partner_id, {"tokens_pulled_at": None})
        partner = await repository.partner_by_id(partner_id)
    assert partner is not None
    return partner


async def suspend_partner(
    uow: UnitOfWork, principal: Principal, partner_id: int, *, suspended: bool = True
) -> PartnerView:
    """Suspend a partner (its tokens are refused at once, on every node, and nothing is sent
    to it), or resume it: connected again if it had registered, else waiting to."""
    require(principal, Permission.MANAGE)
    async with uow:
        found = await repository.partners_by_ids(principal.organization_id, [partner_id])
        if not found:
            raise NotFound(f"no partner {partner_id}")
        if suspended:
            status = PartnerStatus.SUSPENDED
        elif await repository.has_outgoing_token(partner_id):
            status = PartnerStatus.CONNECTED
        else:
            status = PartnerStatus.PENDING
        await repository.set_partner(partner_id, {"status": status.value})
        if found[0].station_local_lists and status.value != found[0].status:
            await repository.resend_local_lists(principal.organization_id)
        partner = await repository.partner_by_id(partner_id)
    assert partner is not None
    return partner


async def whole_locations(
    organization_id: int, partner_id: int, site_ids: Sequence[int], total: int | None = None
) -> Locations:
    """These sites as the partner sees them (for a push of whole Locations)."""
    networks = await stations.site_networks(organization_id, site_ids)
    places = [
        ConnectorPlace(network.site.id, connector.station_id, connector.id)
        for network in networks
        for connector in network.connectors
    ]
    return Locations(
        operator=await own_identity(organization_id),
        sites=networks,
        tariff_codes=await tariffs.tariff_codes_at(organization_id, places, partner_id),
        total=len(networks) if total is None else total,
    )


PULL_RESOLUTION = timedelta(minutes=1)


async def _pulled(caller: CallingPartner) -> None:
    await repository.record_pull(caller.partner_id, utcnow(), PULL_RESOLUTION)


async def locations(
    caller: CallingPartner,
    changed_from: datetime | None,
    changed_to: datetime | None,
    offset: int,
    limit: int,
) -> Locations:
    """A page of the sites partners can be told about, oldest first, optionally only those
    that changed in [changed_from, changed_to)."""
    await _pulled(caller)
    site_ids = await stations.locatable_site_ids(caller.organization_id, changed_from, changed_to)
    return await whole_locations(
        caller.organization_id, caller.partner_id, site_ids[offset : offset + limit], len(site_ids)
    )


async def cdrs_page(
    caller: CallingPartner,
    created_from: datetime | None,
    created_to: datetime | None,
    offset: int,
    limit: int,
) -> Cdrs:
    """A page of the CDRs of the partner's tokens, oldest first, optionally only those made
    in [created_from, created_to)."""
    await _pulled(caller)
    found, total = await billing.partner_cdrs(
        caller.partner_id, created_from, created_to, offset, limit
    )
    return Cdrs(operator=await own_identity(caller.organization_id), cdrs=found, total=total)


async def session_reports(found: Sequence[PartnerSession]) -> list[SessionReport]:
    """Sessions with their cost: so far while running, as billed once over."""
    running = await sessions.running_prices(
        [(each.id, each.started_at, each.energy_wh) for each in found if each.state == ACTIVE]
    )
    final = await billing.final_totals([each.id for each in found if each.state != ACTIVE])
    reports = []
    for each in found:
        priced = running.get(each.id) or final.get(each.id)
        reports.append(SessionReport(session=each, cost=priced[0] if priced else None))
    return reports


async def sessions_page(
    caller: CallingPartner,
    changed_from: datetime | None,
    changed_to: datetime | None,
    offset: int,
    limit: int,
) -> Sessions:
    """A page of the sessions of the partner's tokens, oldest first, optionally only those
    that changed in [changed_from, changed_to)."""
    await _pulled(caller)
    found, total = await sessions.partner_sessions(
        caller.partner_id, changed_from, changed_to, offset, limit
    )
    return Sessions(
        operator=await own_identity(caller.organization_id),
        sessions=await session_reports(found),
        total=total,
    )


async def charging_preferences(caller: CallingPartner, session_id: int) -> None:
    """A driver's charging preferences for a session of the partner's token. Checked only:
    what the answer says (not possible) holds until smart charging plans sessions. NotFound
    for a session that is none of the partner's."""
    if await sessions.partner_session(caller.partner_id, session_id) is None:
        raise NotFound(f"no session {session_id} of this partner")


async def location(caller: CallingPartner, site_id: int) -> Locations:
    """One site, if partners can be told about it (NotFound otherwise)."""
    if not await stations.is_locatable(caller.organization_id, site_id):
        raise NotFound(f"no location {site_id}")
    return await whole_locations(caller.organization_id, caller.partner_id, [site_id])


def speaks_for(
    roles: Sequence[str], own: tuple[str, str], country_code: str, party_id: str
) -> bool:
    """A partner speaks for its own party (`own`); a hub for the parties behind it."""
    if PartnerRole.HUB.value in roles:
        return True
    return (country_code.upper(), party_id.upper()) == (own[0].upper(), own[1].upper())


def check_owner(caller: CallingPartner, country_code: str, party_id: str) -> None:
    own = (caller.country_code, caller.party_id)
    if not speaks_for(caller.roles, own, country_code, party_id):
        raise NotFound(f"{country_code}*{party_id} is not a party of this partner")


async def received_token(
    caller: CallingPartner, country_code: str, party_id: str, uid: str, token_type: str
) -> PartnerToken | None:
    """A token the partner sent us, as it sent it."""
    check_owner(caller, country_code, party_id)
    found = await auth.partner_token(caller.organization_id, caller.partner_id, uid, token_type)
    if found is None:
        return None
    owner = (str(found.issued_as.get("country_code", "")), str(found.issued_as.get("party_id", "")))
    return (
        found
        if (owner[0].upper(), owner[1].upper()) == (country_code.upper(), party_id.upper())
        else None
    )


async def receive_token(
    unit_of_work: UnitOfWorkFactory,
    caller: CallingPartner,
    country_code: str,
    party_id: str,
    token: PartnerToken,
) -> None:
    """Keep a token the partner issued: stations' authorizations then follow what it says."""
    check_owner(caller, country_code, party_id)
    if token.partner_id != caller.partner_id:
        raise InvalidInput("a partner sends its own tokens")
    await auth.store_partner_token(unit_of_work(), caller.organization_id, token)


async def tariffs_page(
    caller: CallingPartner,
    changed_from: datetime | None,
    changed_to: datetime | None,
    offset: int,
    limit: int,
) -> Tariffs:
    """A page of the tariffs the partner's drivers may pay, oldest first, optionally only
    those changed in [changed_from, changed_to)."""
    await _pulled(caller)
    found = [
        tariff
        for tariff in await tariffs.tariffs_for_partner(caller.organization_id, caller.partner_id)
        if (changed_from is None or tariff.updated_at >= changed_from)
        and (changed_to is None or tariff.updated_at < changed_to)
    ]
    return Tariffs(
        operator=await own_identity(caller.organization_id),
        tariffs=found[offset : offset + limit],
        total=len(found),
    )


async def outgoing_token(partner_id: int) -> str | None:
    """The token we call this partner with (None once it unregistered)."""
    return await repository.outgoing_token(partner_id)


async def _own_partner(principal: Principal, partner_id: int) -> PartnerView:
    found = await repository.partners_by_ids(principal.organization_id, [partner_id])
    if not found:
        raise NotFound(f"no partner {partner_id}")
    return found[0]


async def update_partner(
    uow: UnitOfWork, principal: Principal, partner_id: int, fields: dict[str, Any]
) -> PartnerView:
    """Rename a partner, or say whether its tokens go into our stations' local lists
    (admin); its OCPI identity comes from its registration."""
    require(principal, Permission.MANAGE)
    name = str(fields.get("name") or "").strip()
    if "name" in fields and (not name or len(name) > MAX_NAME_LENGTH):
        raise InvalidInput(f"name: 1 to {MAX_NAME_LENGTH} characters")
    async with uow:
        before = await _own_partner(principal, partner_id)
        if "name" in fields:
            await repository.set_partner(partner_id, {"name": name})
        listed = fields.get("station_local_lists")
        if listed is not None and listed != before.station_local_lists:
            await repository.set_partner(partner_id, {"station_local_lists": listed})
            await repository.resend_local_lists(principal.organization_id)
        partner = await repository.partner_by_id(partner_id)
    assert partner is not None
    return partner


async def delete_partner(
    unit_of_work: UnitOfWorkFactory, principal: Principal, peers: RoamingPeers, partner_id: int
) -> PartnerView:
    """End a partnership (admin): a registered partner is told first (OCPI DELETE of our
    credentials at its end, if it answers), then its tokens stop working here and it is
    gone, with the tariffs narrowed to it."""
    require(principal, Permission.MANAGE)
    async with unit_of_work():
        partner = await _own_partner(principal, partner_id)
        credentials_url, token = await repository.credentials_of(partner_id)
    if credentials_url is not None and token is not None:
        try:
            await peers.unregister(credentials_url, token, partner.version or "")
        except (PartnerUnreachable, Unsendable) as error:
            logger.warning("partner %s was not told it is deleted: %s", partner_id, error)
    async with unit_of_work():
        await repository.forget_partner(partner_id)
        if partner.station_local_lists:  # its tokens leave the stations' lists
            await repository.resend_local_lists(principal.organization_id)
    return partner


async def settlement(
    principal: Principal, partner_id: int, period_from: datetime, period_to: datetime
) -> Settlement:
    """For finance: per currency, how many CDRs of the partner's tokens were issued in the
    period (a correction's credit CDR and new CDR in the period they were issued), the energy
    and the amounts."""
    require(principal, Permission.READ_NETWORK)
    if period_from.tzinfo is None or period_to.tzinfo is None:
        raise InvalidInput("from and to: give a time zone (e.g. 2026-11-01T00:00:00Z)")
    if period_from >= period_to:
        raise InvalidInput("from must be before to")
    partner = await _own_partner(principal, partner_id)
    return Settlement(
        partner=partner,
        period_from=period_from,
        period_to=period_to,
        lines=await billing.partner_settlement(partner_id, period_from, period_to),
    )


def _hub(caller: CallingPartner) -> None:
    if PartnerRole.HUB not in caller.roles:
        raise InvalidInput("only a hub tells about the parties it connects")


async def hub_party(caller: CallingPartner, country_code: str, party_id: str) -> HubPartyView:
    """What the hub told us about one of its parties (NotFound if nothing)."""
    _hub(caller)
    found = await repository.hub_party(caller.partner_id, country_code.upper(), party_id.upper())
    if found is None:
        raise NotFound(f"no party {country_code}*{party_id} from this hub")
    return found


async def receive_hub_party(
    unit_of_work: UnitOfWorkFactory,
    caller: CallingPartner,
    party: HubPartyView,
    max_parties: int,
) -> None:
    """A hub tells how one of the parties it connects us with stands; a party beyond the
    first `max_parties` it told about is not kept (TooManyParties)."""
    _hub(caller)
    async with unit_of_work():
        known = await repository.hub_party(caller.partner_id, party.country_code, party.party_id)
        if known is None and await repository.hub_party_count(caller.partner_id) >= max_parties:
            raise TooManyParties(
                f"this hub told about {max_parties} parties already, the most kept per hub"
            )
        await repository.save_hub_party(caller.organization_id, caller.partner_id, party)
