"""Use cases of the sessions domain: transactions of both OCPP versions in one model.

Every use case is idempotent on its natural key: chargers resend after a lost reply and replay
their offline queue after a reboot, and a repeat must change nothing."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from app.auth import service as auth
from app.auth.access import Permission, may, require, visible_owner
from app.auth.models import ACCEPTED, UNKNOWN, Principal, TokenIssuers, TokenVerdict
from app.errors import NotFound
from app.events import SessionChanged
from app.pagination import Page, PageRequest
from app.sessions import repository
from app.sessions.meter import (
    Reading,
    chart_points,
    energy_register_wh,
    power_w,
    readings_from_meter_values,
)
from app.sessions.models import (
    ACTIVE,
    COMPLETED,
    ORPHAN,
    BillableSession,
    MeterPoint,
    PartnerSession,
    SessionFilter,
    SessionOrder,
    SessionState,
    SessionTotals,
    SessionView,
    StartResult,
    TransactionAnswer,
)
from app.stations import service as stations
from app.stations.models import StationRecord
from app.tariffs import service as tariffs
from app.tariffs.calculator import cost_so_far
from app.tariffs.models import (
    Cost,
    SessionTimeline,
    TariffSnapshot,
    TimelinePoint,
    from_minor_units,
)
from app.timeparse import utcnow
from app.unit_of_work import UnitOfWork
from db.group_commit import MeterWrite

logger = logging.getLogger(__name__)

STARTED, UPDATED, ENDED = "started", "updated", "ended"


def _event(
    station: StationRecord, session: SessionState, phase: str, **extra: Any
) -> SessionChanged:
    return SessionChanged(
        organization_id=station.organization_id,
        session_id=session.id,
        station_id=station.id,
        identity=station.identity,
        transaction_id=session.transaction_id,
        phase=phase,
        state=extra.pop("state", session.state),
        started_at=session.started_at,
        evse_id=session.evse_id,
        connector_id=session.connector_id,
        energy_wh=extra.pop("energy_wh", session.energy_wh),
        **extra,
    )


async def _verdict(
    station: StationRecord,
    uid: str | None,
    token_type: str | None,
    asking: tuple[UnitOfWork, TokenIssuers] | None = None,
) -> TokenVerdict:
    """The token's verdict here; with `asking`, a roaming partner's token is asked about at
    its issuer where its whitelist says so (auth.authorize_asking_issuer)."""
    if not uid:
        return TokenVerdict(status=ACCEPTED)  # no token needed (NoAuthorization)
    if asking is None:
        verdict = await auth.authorize_token(station.organization_id, uid, token_type)
    else:
        uow, issuers = asking
        verdict = await auth.authorize_asking_issuer(
            uow, issuers, station.organization_id, uid, token_type, station.id
        )
    if verdict.status == UNKNOWN and station.free_vend:
        # Free vend: anyone may charge; tokens we know keep their status (a blocked card
        # stays blocked).
        return TokenVerdict(status=ACCEPTED)
    return verdict


async def start_transaction(
    uow: UnitOfWork,
    station: StationRecord,
    *,
    evse_id: int,
    id_tag: str,
    meter_start_wh: int,
    started_at: datetime,
) -> StartResult:
    """OCPP 1.6 StartTransaction: a CSMS-assigned transaction id, the same one on a resend."""
    start_key = f"{evse_id}|{id_tag}|{started_at.isoformat()}|{meter_start_wh}"
    async with uow:
        verdict = await _verdict(station, id_tag, None)
        existing = await repository.by_start_key(station.id, start_key)
        if existing is not None:
            return StartResult(int(existing.transaction_id), verdict)
        evse_row, connector_row = await stations.connector_rows(station.id, evse_id, 1)
        snapshot = await tariffs.snapshot_for_session(
            station.organization_id, station.id, connector_row, verdict.group_id, started_at
        )
        session_id = await repository.create(
            organization_id=station.organization_id,
            station_id=station.id,
            evse_row=evse_row,
            connector_row=connector_row,
            transaction_id=None,
            state=ACTIVE,
            started_at=started_at,
            id_tag=id_tag,
            id_token_id=verdict.token_id,
            user_id=verdict.user_id,
            meter_start_wh=meter_start_wh,
            start_key=start_key,
            tariff_snapshot=snapshot,
            partner_id=verdict.partner_id,
        )
        session = await repository.by_transaction(station.id, str(session_id))
        assert session is not None
        uow.emit(_event(station, session, STARTED))
        return StartResult(session_id, verdict)


async def stop_transaction(
    uow: UnitOfWork,
    station: StationRecord,
    *,
    transaction_id: int,
    meter_stop_wh: int,
    ended_at: datetime,
    reason: str | None,
    id_tag: str | None,
    transaction_data: Sequence[Mapping[str, Any]],
) -> TokenVerdict | None:
    """OCPP 1.6 StopTransaction: always accepted; an unknown id is kept as an orphan."""
    readings = readings_from_meter_values(transaction_data)
    async with uow:
        verdict = await _verdict(station, id_tag, None) if id_tag else None
        session = (
            await repository.by_transaction(station.id, str(transaction_id))
            if transaction_id > 0
            else None
        )
        if session is None:
            await _record_orphan_stop(
                uow, station, transaction_id, meter_stop_wh, ended_at, reason, readings
            )
            return verdict
        if session.state != ACTIVE:
            return verdict  # a resend: already stopped
        energy = _energy(session, meter_stop_wh)
        await repository.add_samples(
            station.id, session.id, await repository.connector_row_of_session(session.id), readings
        )
        await repository.update(
            session.id,
            {
                "state": COMPLETED,
                "ended_at": ended_at,
                "meter_stop_wh": meter_stop_wh,
                "energy_wh": energy,
                "stop_reason": (reason or "Local")[:32],
            },
        )
        uow.emit(
            _event(station, session, ENDED, state=COMPLETED, energy_wh=energy, stop_reason=reason)
        )
    return verdict


async def _record_orphan_stop(
    uow: UnitOfWork,
    station: StationRecord,
    transaction_id: int,
    meter_stop_wh: int,
    ended_at: datetime,
    reason: str | None,
    readings: Sequence[Reading],
) -> None:
    # Offline starts come with -1/0 or ids we never issued: keep each stop once, keyed by the
    # id and its time, for reconciliation by connector and time.
    orphan_id = f"orphan:{transaction_id}:{ended_at.isoformat()}"[:64]
    if await repository.by_transaction(station.id, orphan_id) is not None:
        return
    started_at = min((r.sampled_at for r in readings), default=ended_at)
    session_id = await repository.create(
        organization_id=station.organization_id,
        station_id=station.id,
        evse_row=None,
        connector_row=None,
        transaction_id=orphan_id,
        state=ORPHAN,
        started_at=started_at,
        id_tag=None,
        id_token_id=None,
        user_id=None,
        meter_start_wh=None,
        offline=True,
    )
    await repository.add_samples(station.id, session_id, None, readings)
    await repository.update(
        session_id,
        {
            "ended_at": ended_at,
            "meter_stop_wh": meter_stop_wh,
            "stop_reason": (reason or "Other")[:32],
        },
    )
    session = await repository.by_transaction(station.id, orphan_id)
    assert session is not None
    uow.emit(_event(station, session, ENDED, stop_reason=reason))


def _energy(session: SessionState, register_wh: int | None) -> int:
    if register_wh is None or session.meter_start_wh is None:
        return session.energy_wh
    return max(0, register_wh - session.meter_start_wh)


async def record_meter_values(
    uow: UnitOfWork,
    station: StationRecord,
    *,
    evse_id: int,
    transaction_id: str | None,
    meter_values: Sequence[Mapping[str, Any]],
) -> None:
    """Store sampled values; a running session learns its energy and power from them."""
    readings = readings_from_meter_values(meter_values)
    if uow.grouped is not None:
        # Reads first, outside any transaction; then one write that shares a commit.
        session, connector_row = await _meter_target(uow, station, evse_id, transaction_id)
        write, event = _meter_write(station, session, connector_row, readings)
        await uow.grouped.submit(write)
        if event is not None:
            await uow.publish(event)
        return
    async with uow:
        session, connector_row = await _meter_target(uow, station, evse_id, transaction_id)
        await repository.add_samples(
            station.id, session.id if session else None, connector_row, readings
        )
        if session is not None and session.state == ACTIVE:
            await _apply_readings(uow, station, session, readings, UPDATED)


async def _meter_target(
    uow: UnitOfWork, station: StationRecord, evse_id: int, transaction_id: str | None
) -> tuple[SessionState | None, int | None]:
    """The session meter values belong to, and their connector row."""
    session: SessionState | None = None
    reads = uow.grouped.reads if uow.grouped is not None else None
    if transaction_id is not None:
        session = (
            await reads.fetch(repository.SessionsByTransaction, (station.id, transaction_id))
            if reads is not None
            else await repository.by_transaction(station.id, transaction_id)
        )
    elif evse_id > 0:
        session = (
            await reads.fetch(repository.ActiveSessionsOnEvse, (station.id, evse_id))
            if reads is not None
            else await repository.active_on_evse(station.id, evse_id)
        )
    connector_row = None
    if evse_id > 0:
        _evse_row, connector_row = await stations.connector_rows(station.id, evse_id, 1)
    return session, connector_row


def _meter_write(
    station: StationRecord,
    session: SessionState | None,
    connector_row: int | None,
    readings: Sequence[Reading],
) -> tuple[MeterWrite, SessionChanged | None]:
    samples = repository.sample_rows(
        station.id, session.id if session else None, connector_row, readings
    )
    if session is None or session.state != ACTIVE:
        return MeterWrite(samples=samples), None
    values, event = _reading_values(station, session, readings, UPDATED)
    write = MeterWrite(
        samples=samples,
        session_id=session.id,
        energy_wh=values["energy_wh"],
        power_w=values.get("power_w"),
        last_meter_at=values.get("last_meter_at"),
        updated_at=utcnow(),
    )
    return write, event


def _reading_values(
    station: StationRecord,
    session: SessionState,
    readings: Sequence[Reading],
    phase: str,
    extra: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], SessionChanged]:
    """What the readings change on the session, and the event that says so."""
    register = energy_register_wh(readings)
    power = power_w(readings)
    values: dict[str, Any] = dict(extra or {})
    # Energy charged never falls: a lower register is a late (offline replay) reading.
    energy = max(session.energy_wh, _energy(session, register))
    values["energy_wh"] = energy
    if power is not None:
        values["power_w"] = power
    if readings:
        values["last_meter_at"] = max(r.sampled_at for r in readings)
    event = _event(
        station,
        session,
        phase,
        state=values.get("state", session.state),
        energy_wh=energy,
        power_w=power,
        stop_reason=values.get("stop_reason"),
    )
    return values, event


async def _apply_readings(
    uow: UnitOfWork,
    station: StationRecord,
    session: SessionState,
    readings: Sequence[Reading],
    phase: str,
    extra: Mapping[str, Any] | None = None,
) -> int:
    """Store what the readings change; the session's energy so far."""
    values, event = _reading_values(station, session, readings, phase, extra)
    await repository.update(session.id, values)
    uow.emit(event)
    return int(values["energy_wh"])


async def transaction_event(
    uow: UnitOfWork,
    station: StationRecord,
    *,
    event_type: str,
    transaction_id: str,
    seq_no: int,
    timestamp: datetime,
    offline: bool,
    evse_id: int | None,
    connector_id: int | None,
    id_token: str | None,
    token_type: str | None,
    charging_state: str | None,
    stopped_reason: str | None,
    meter_values: Sequence[Mapping[str, Any]],
    remote_start_token: tuple[str, str] | None = None,
) -> TransactionAnswer:
    """OCPP 2.0.1 TransactionEvent: the station's id and seqNo; a repeated seqNo is a no-op.

    The session is for the first id token it is reported with, or else for the token of
    the remote start the event echoes (`remote_start_token`: uid and type); a token
    presented later (a card that stops it) does not change whose it is. Only a token the
    station presented is answered with its verdict."""
    readings = readings_from_meter_values(meter_values)
    presented = bool(id_token)
    if not presented and remote_start_token is not None:
        id_token, token_type = remote_start_token
    async with uow:
        verdict = await _verdict(station, id_token, token_type) if id_token else None
        answered = verdict if presented else None
        session = await repository.by_transaction(station.id, transaction_id[:64])
        if session is not None and seq_no in session.seq_nos_seen:
            return TransactionAnswer(answered)
        phase = UPDATED
        if session is None:
            session = await _open_session_201(
                station,
                transaction_id,
                evse_id,
                connector_id,
                timestamp,
                offline,
                verdict,
                id_token,
                readings,
            )
            phase = STARTED
        values: dict[str, Any] = {
            "seq_nos_seen": sorted({*session.seq_nos_seen, seq_no}),
            "last_seq_no": max([seq_no, *session.seq_nos_seen]),
        }
        if offline:
            values["offline"] = True
        if charging_state:
            values["charging_state"] = charging_state[:16]
        if id_token and session.id_tag is None:
            values["id_tag"] = id_token[:255]
        for_this_token = session.id_tag is None or session.id_tag == id_token
        if verdict is not None and verdict.token_id is not None and for_this_token:
            values["id_token"] = verdict.token_id
            values["user"] = verdict.user_id
            if verdict.partner_id is not None:
                values["partner"] = verdict.partner_id
                values["partner_pending"] = True
        connector_row = await repository.connector_row_of_session(session.id)
        await repository.add_samples(station.id, session.id, connector_row, readings)
        if event_type == "Ended":
            phase = ENDED if phase == UPDATED else phase
            values["state"] = COMPLETED
            values["ended_at"] = timestamp
            values["stop_reason"] = (stopped_reason or "Local")[:32]
            register = energy_register_wh(readings)
            if register is not None:
                values["meter_stop_wh"] = register
        energy = await _apply_readings(uow, station, session, readings, phase, values)
    if event_type == "Ended" or session.state == COMPLETED:  # the end, or a late message
        # Billing reacted to the session's completion (after commit): its cost is kept.
        return TransactionAnswer(answered, await _final_cost(session.id))
    costs = await running_costs([(session.id, session.started_at, energy)])
    if session.id not in costs:
        return TransactionAnswer(answered)
    cost_minor, currency = costs[session.id]
    return TransactionAnswer(answered, from_minor_units(cost_minor, currency))


async def _final_cost(session_id: int) -> Decimal | None:
    """The session's cost incl. VAT in major units, once billed."""
    billed = await repository.cost_of(session_id)
    return from_minor_units(*billed) if billed else None


async def _open_session_201(
    station: StationRecord,
    transaction_id: str,
    evse_id: int | None,
    connector_id: int | None,
    timestamp: datetime,
    offline: bool,
    verdict: TokenVerdict | None,
    id_token: str | None,
    readings: Sequence[Reading],
) -> SessionState:
    evse_row = connector_row = None
    if evse_id:
        evse_row, connector_row = await stations.connector_rows(
            station.id, evse_id, connector_id or 1
        )
    snapshot = await tariffs.snapshot_for_session(
        station.organization_id,
        station.id,
        connector_row,
        verdict.group_id if verdict else None,
        timestamp,
    )
    session_id = await repository.create(
        organization_id=station.organization_id,
        station_id=station.id,
        evse_row=evse_row,
        connector_row=connector_row,
        transaction_id=transaction_id[:64],
        state=ACTIVE,
        started_at=timestamp,
        id_tag=id_token,
        id_token_id=verdict.token_id if verdict else None,
        user_id=verdict.user_id if verdict else None,
        meter_start_wh=energy_register_wh(readings),
        offline=offline,
        tariff_snapshot=snapshot,
        partner_id=verdict.partner_id if verdict else None,
    )
    session = await repository.by_transaction(station.id, transaction_id[:64])
    assert session is not None and session.id == session_id
    return session


def _complete(facts: Mapping[str, Any]) -> bool:
    """Ended, and (2.0.1) no TransactionEvent missing in between: an offline replay may
    deliver the end before the middle."""
    if facts["state"] != COMPLETED or facts["ended_at"] is None:
        return False
    seen = set(facts["seq_nos_seen"] or [])
    return not seen or seen == set(range(min(seen), max(seen) + 1))


async def billable(
    session_id: int, tariff_snapshot: dict[str, Any] | None = None
) -> BillableSession | None:
    """A complete session as billing prices it (with its own tariff, or the one given)."""
    facts = await repository.billing_facts(session_id)
    if facts is None or not _complete(facts):
        return None
    points = chart_points(await repository.chart_readings(session_id), facts["meter_start_wh"])
    snapshot = tariff_snapshot or facts["tariff_snapshot"]
    return BillableSession(
        session_id=session_id,
        organization_id=facts["organization"],
        user_id=facts["user"],
        started_at=facts["started_at"],
        ended_at=facts["ended_at"],
        energy_wh=facts["energy_wh"],
        points=tuple(points),
        tariff_snapshot=snapshot,
        currency=snapshot["currency"] if snapshot else facts["default_currency"],
        time_zone=facts["time_zone"] or "UTC",
        token=_cdr_token(facts),
        location={
            "station": facts["identity"],
            "evse_id": facts["evse_number"],
            "connector_id": facts["connector_number"],
            "name": facts["site_name"],
            "address": facts["address"],
            "city": facts["city"],
            "postal_code": facts["postal_code"],
            "country": facts["country"],
            "time_zone": facts["time_zone"] or "UTC",
            # What a roaming partner's CDR names the place by (OCPI CdrLocation).
            "site_id": facts["site_id"],
            "latitude": _decimal_text(facts["latitude"]),
            "longitude": _decimal_text(facts["longitude"]),
            "evse_row_id": facts["evse_row_id"],
            "evse_uid": facts["evse_uid"],
            "connector_standard": facts["connector_standard"],
            "connector_format": facts["connector_format"],
            "connector_power_type": facts["connector_power_type"],
            "connector_max_voltage": facts["connector_max_voltage"],
            "connector_max_amperage": facts["connector_max_amperage"],
        },
        signed_data=await repository.signed_values(session_id),
        partner_id=facts["token_partner"],
    )


def _decimal_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _cdr_token(facts: Mapping[str, Any]) -> dict[str, Any] | None:
    """The token that charged, as a CDR names it. A roaming partner's token carries the
    party that issued it and how the session was authorized: by the partner (its start
    command or its answer to our real-time authorization, in force when the session started,
    with its reference), else from the token store (its whitelist)."""
    if not facts["id_tag"]:
        return None
    token: dict[str, Any] = {
        "uid": facts["token_uid"] or facts["id_tag"],
        "type": facts["token_type"],
        "contract_id": facts["contract_id"],
    }
    issued_as = facts["token_issued_as"]
    if facts["token_partner"] is not None and isinstance(issued_as, dict):
        until = facts["token_preauthorized_until"]
        by_partner = until is not None and facts["started_at"] <= until
        token.update(
            type=issued_as.get("type"),
            contract_id=issued_as.get("contract_id") or facts["contract_id"],
            country_code=issued_as.get("country_code"),
            party_id=issued_as.get("party_id"),
            auth_method=(facts["token_preauthorized_as"] or "COMMAND")
            if by_partner
            else "WHITELIST",
        )
        if by_partner and facts["token_authorization_reference"]:
            token["authorization_reference"] = facts["token_authorization_reference"]
    return token


async def keep_cost(uow: UnitOfWork, session_id: int, cost_minor: int, currency: str) -> None:
    """The session's charge, as its CDR says (shown with the session, told to 2.0.1 stations)."""
    async with uow:
        await repository.update(session_id, {"cost_minor": cost_minor, "currency": currency})


async def authorize(
    uow: UnitOfWork,
    station: StationRecord,
    uid: str,
    token_type: str | None,
    issuers: TokenIssuers | None = None,
) -> TokenVerdict:
    """May this id token charge at this station? A roaming partner's token is asked about
    at its issuer (`issuers`) where its whitelist says so; the answer holds for the session
    that follows, so starting it asks nothing more."""
    return await _verdict(station, uid, token_type, (uow, issuers) if issuers is not None else None)


async def session_owner(station_id: int, transaction_id: str) -> int | None:
    """The user a session is charging for, if known."""
    return await repository.user_of_session(station_id, transaction_id)


# The API's reads. A driver sees only their own sessions, whatever filter they send.


def _own_scope(principal: Principal, filters: SessionFilter) -> SessionFilter:
    owner = visible_owner(principal)
    return filters if owner is None else dataclasses.replace(filters, user_id=owner)


async def page_sessions(
    principal: Principal,
    filters: SessionFilter | None = None,
    order: SessionOrder = SessionOrder.NEWEST,
    request: PageRequest | None = None,
) -> Page[SessionView]:
    scoped = _own_scope(principal, filters or SessionFilter())
    page = await repository.page_sessions(
        principal.organization_id, scoped, order, request or PageRequest()
    )
    if scoped != SessionFilter():
        return page  # a filtered count reads an index
    return dataclasses.replace(
        page, count=functools.partial(repository.count_of_organization, principal.organization_id)
    )


def _visible(principal: Principal, session: SessionView) -> bool:
    return may(principal, Permission.READ_NETWORK) or (
        principal.user_id is not None and session.user_id == principal.user_id
    )


async def sessions_by_ids(
    principal: Principal, session_ids: Sequence[int]
) -> dict[int, SessionView]:
    found = await repository.sessions_by_ids(principal.organization_id, session_ids)
    return {session.id: session for session in found if _visible(principal, session)}


async def session_of_organization(organization_id: int, session_id: int) -> SessionView | None:
    """One of the organization's sessions, for the domain's own use."""
    found = await repository.sessions_by_ids(organization_id, [session_id])
    return found[0] if found else None


async def active_session_count() -> int:
    """Sessions in progress across the installation (for monitoring)."""
    return await repository.count_active()


async def active_sessions_of_connectors(
    principal: Principal, connector_rows: Sequence[int]
) -> dict[int, SessionView]:
    """The running session on each connector that has one (the newest, if several); a driver
    sees only their own."""
    require(principal, Permission.READ_STATIONS)
    found = await repository.active_sessions_of_connectors(
        principal.organization_id, connector_rows
    )
    return {
        session.connector_row: session
        for session in found
        if session.connector_row and _visible(principal, session)
    }


async def meter_chart(
    principal: Principal, session_id: int, max_points: int | None = None
) -> list[MeterPoint]:
    """Energy and power over a session's time, for a chart."""
    sessions = await sessions_by_ids(principal, [session_id])
    if session_id not in sessions:
        raise NotFound(f"no session {session_id}")
    readings = await repository.chart_readings(session_id)
    return [
        MeterPoint(at=at, energy_wh=energy, power_w=power)
        for at, energy, power in chart_points(
            readings, sessions[session_id].meter_start_wh, max_points
        )
    ]


async def session_totals(
    principal: Principal,
    site_id: int | None = None,
    started_from: datetime | None = None,
    started_before: datetime | None = None,
) -> SessionTotals:
    """Dashboard figures: running sessions, and sessions and energy in a period."""
    require(principal, Permission.READ_NETWORK)
    totals = await repository.session_totals(
        principal.organization_id, site_id, started_from, started_before
    )
    return SessionTotals(**totals)


# A session's tariff never changes once it started: kept per process for running costs.
_PRICING: dict[int, tuple[TariffSnapshot | None, str]] = {}
_PRICING_LIMIT = 50_000


def forget_pricing() -> None:
    """Drop the cached tariffs (after the tables were emptied: ids start again)."""
    _PRICING.clear()


async def running_costs(
    sessions: Sequence[tuple[int, datetime, int]], now: datetime | None = None
) -> dict[int, tuple[int, str]]:
    """Cost so far incl. VAT (minor units, currency) of running sessions given as
    (id, started at, energy so far): energy and time since the start, priced with the
    session's tariff. The CDR at the end prices the whole timeline exactly."""
    return {
        session_id: (cost.incl_vat, currency)
        for session_id, (cost, currency) in (await running_prices(sessions, now)).items()
    }


async def running_prices(
    sessions: Sequence[tuple[int, datetime, int]], now: datetime | None = None
) -> dict[int, tuple[Cost, str]]:
    """As running_costs, excluding and including VAT."""
    missing = [session_id for session_id, _, _ in sessions if session_id not in _PRICING]
    if missing:
        if len(_PRICING) >= _PRICING_LIMIT:
            _PRICING.clear()
        for row in await repository.pricing_of(missing):
            snapshot = row["tariff_snapshot"]
            _PRICING[row["id"]] = (
                TariffSnapshot.from_ocpi(snapshot) if snapshot else None,
                row["time_zone"] or "UTC",
            )
    moment = now or utcnow()
    costs: dict[int, tuple[Cost, str]] = {}
    for session_id, started_at, energy_wh in sessions:
        tariff, time_zone = _PRICING.get(session_id, (None, "UTC"))
        if tariff is None:
            continue
        end = max(moment, started_at)
        timeline = SessionTimeline(
            start=started_at,
            end=end,
            points=(
                TimelinePoint(at=started_at, energy_wh=0),
                TimelinePoint(at=end, energy_wh=energy_wh),
            ),
        )
        breakdown = cost_so_far(tariff, timeline, time_zone, moment)
        costs[session_id] = (breakdown.total_cost, tariff.currency)
    return costs


async def completed_without_cdr(since: datetime, until: datetime) -> list[int]:
    """Sessions that ended between `since` and `until` and have no CDR yet."""
    return await repository.completed_without_cdr(since, until)


async def billing_facts(session_id: int) -> Mapping[str, Any] | None:
    """What is stored about a session for billing and reconciliation (its organization,
    station, identity, transaction id, the sequence numbers seen)."""
    return await repository.billing_facts(session_id)


# Watching running sessions (the healing domain decides what is a ghost) -----------------


async def quiet_active_sessions(started_before: datetime, max_power_w: int) -> list[dict[str, Any]]:
    return await repository.quiet_active_sessions(started_before, max_power_w)


async def recent_points(
    session_id: int, meter_start_wh: int | None, since: datetime
) -> list[tuple[datetime, int | None, int | None]]:
    """(time, energy so far, power) of a session's readings from `since`."""
    return chart_points(await repository.chart_readings(session_id, since), meter_start_wh)


async def close_on_our_side(uow: UnitOfWork, session_id: int, reason: str) -> bool:
    """End a session the station no longer runs (it did not stop it itself): at its last
    meter value, with the energy measured, flagged with `reason`; then billed. False if it
    had ended meanwhile."""
    facts = await repository.billing_facts(session_id)
    if facts is None or facts["state"] != ACTIVE:
        return False
    station = await stations.get_station_record(facts["identity"])
    session = await repository.by_transaction(facts["station"], facts["transaction_id"])
    if station is None or session is None:
        return False
    ended_at = await repository.last_meter_at(session_id) or utcnow()
    async with uow:
        await repository.update(
            session_id,
            {"state": COMPLETED, "ended_at": ended_at, "stop_reason": reason[:32]},
        )
        uow.emit(_event(station, session, ENDED, state=COMPLETED, stop_reason=reason))
    return True


# Sessions of roaming partners' tokens (the roaming domain tells the partners) -----------


def _partner_session(row: Mapping[str, Any]) -> PartnerSession:
    return PartnerSession(
        id=row["id"],
        organization_id=row["organization"],
        state=row["state"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        energy_wh=int(row["energy_wh"] or 0),
        updated_at=row["updated_at"],
        pushed_at=row["partner_pushed_at"],
        currency=row["currency"] or row["default_currency"],
        billed=row["cost_minor"] is not None,
        token=_cdr_token(row),
        site_id=row["site_id"],
        evse_row_id=row["evse_row_id"],
        connector_id=row["connector_number"],
    )


async def partner_sessions_pending(partner_id: int, limit: int) -> list[PartnerSession]:
    """The sessions of the partner's tokens whose last state its copy may lack, oldest
    first."""
    return [
        _partner_session(row)
        for row in await repository.partner_sessions_pending(partner_id, limit)
    ]


async def partner_session(partner_id: int, session_id: int) -> PartnerSession | None:
    """One session of the partner's tokens (None: there is no such session of its)."""
    row = await repository.partner_session(partner_id, session_id)
    return _partner_session(row) if row else None


async def partner_sessions(
    partner_id: int,
    updated_from: datetime | None,
    updated_to: datetime | None,
    offset: int,
    limit: int,
) -> tuple[list[PartnerSession], int]:
    """A page of the sessions of the partner's tokens, oldest first, optionally only those
    changed in [updated_from, updated_to); and how many such there are."""
    rows, total = await repository.partner_sessions(
        partner_id, updated_from, updated_to, offset, limit
    )
    return [_partner_session(row) for row in rows], total


async def partner_session_pushed(session: PartnerSession) -> None:
    """The partner has the session as it was read; once final, it is told no more."""
    await repository.partner_session_pushed(session.id, session.updated_at, session.final)
