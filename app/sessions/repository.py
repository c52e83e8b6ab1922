"""Every query of the sessions domain."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app import tally
from app.pagination import Page, PageRequest
from app.sessions.meter import Reading
from app.sessions.models import (
    SessionFilter,
    SessionOrder,
    SessionState,
    SessionView,
)
from app.timeparse import utcnow
from db.group_commit import SampleRow
from db.paging import page_by_id
from db.tables import ChargingSession, MeterSample

# Hot path (every meter value and transaction message): plain SQL, because building the
# equivalent ORM query with its two joins cost more CPU than running it.
_STATE_COLUMNS = """
s.id, s.organization, s.station, e.evse_id AS evse_number,
c.connector_id AS connector_number, s.transaction_id, s.state, s.started_at,
s.meter_start_wh, s.energy_wh, s.seq_nos_seen, s.id_tag
"""
_STATE_FROM = """
FROM charging_session s
LEFT JOIN evse e ON e.id = s.evse
LEFT JOIN connector c ON c.id = s.connector
"""
_STATE_SQL = "SELECT " + _STATE_COLUMNS + _STATE_FROM


def _state(row: dict[str, Any]) -> SessionState:
    seen = row["seq_nos_seen"]
    return SessionState(
        id=row["id"],
        organization_id=row["organization"],
        station_id=row["station"],
        evse_id=row["evse_number"],
        connector_id=row["connector_number"],
        transaction_id=row["transaction_id"],
        state=row["state"],
        started_at=row["started_at"],
        meter_start_wh=row["meter_start_wh"],
        energy_wh=row["energy_wh"],
        seq_nos_seen=json.loads(seen) if isinstance(seen, str) else list(seen or []),
        id_tag=row["id_tag"],
    )


async def by_transaction(station_id: int, transaction_id: str) -> SessionState | None:
    rows = await ChargingSession.raw(
        _STATE_SQL + "WHERE s.station = {} AND s.transaction_id = {}", station_id, transaction_id
    )
    return _state(rows[0]) if rows else None


async def by_start_key(station_id: int, start_key: str) -> SessionState | None:
    rows = await ChargingSession.raw(
        _STATE_SQL + "WHERE s.station = {} AND s.start_key = {}", station_id, start_key
    )
    return _state(rows[0]) if rows else None


async def create(
    *,
    organization_id: int,
    station_id: int,
    evse_row: int | None,
    connector_row: int | None,
    transaction_id: str | None,
    state: str,
    started_at: datetime,
    id_tag: str | None,
    id_token_id: int | None,
    user_id: int | None,
    meter_start_wh: int | None,
    start_key: str | None = None,
    offline: bool = False,
    tariff_snapshot: dict[str, Any] | None = None,
    partner_id: int | None = None,
) -> int:
    """Insert a session; without a transaction id (1.6) it gets its own row id as one."""
    session = ChargingSession(
        organization=organization_id,
        station=station_id,
        evse=evse_row,
        connector=connector_row,
        transaction_id=transaction_id or f"pending:{uuid.uuid4().hex}",
        state=state,
        started_at=started_at,
        id_tag=id_tag[:255] if id_tag else None,
        id_token=id_token_id,
        user=user_id,
        meter_start_wh=meter_start_wh,
        start_key=start_key,
        offline=offline,
        tariff_snapshot=tariff_snapshot,
        currency=tariff_snapshot["currency"] if tariff_snapshot else None,
        partner=partner_id,
        partner_pending=partner_id is not None,
    )
    await session.save()
    session_id = int(session.id)
    if transaction_id is None:
        await ChargingSession.update({ChargingSession.transaction_id: str(session_id)}).where(
            ChargingSession.id == session_id
        )
    return session_id


async def update(session_id: int, values: dict[str, Any]) -> None:
    """Set columns (by name) of one session."""
    columns: dict[Any, Any] = {
        ChargingSession._meta.get_column_by_name(name): v for name, v in values.items()
    }
    columns[ChargingSession.updated_at] = utcnow()
    await ChargingSession.update(columns).where(ChargingSession.id == session_id)


_SAMPLE_COLUMNS = (
    "session, station, connector, sampled_at, measurand, phase, location, unit, context, "
    "value, signed_data, signing_method, encoding_method, public_key"
)


def sample_rows(
    station_id: int, session_id: int | None, connector_row: int | None, readings: Sequence[Reading]
) -> tuple[SampleRow, ...]:
    """Readings as meter_sample rows, in the column order of `_SAMPLE_COLUMNS`."""
    return tuple(
        (
            session_id,
            station_id,
            connector_row,
            r.sampled_at,
            r.measurand,
            r.phase,
            r.location,
            r.unit,
            r.context,
            r.value,
            r.signed_data,
            r.signing_method,
            r.encoding_method,
            r.public_key,
        )
        for r in readings
    )


async def add_samples(
    station_id: int, session_id: int | None, connector_row: int | None, readings: Sequence[Reading]
) -> None:
    """Insert sampled values (plain SQL, one statement: every meter value goes here)."""
    if not readings:
        return
    placeholders = ", ".join(
        ["({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})"] * len(readings)
    )
    args = [
        value
        for row in sample_rows(station_id, session_id, connector_row, readings)
        for value in row
    ]
    # Only constant column names and placeholders are formatted in; values are parameters.
    sql = f"INSERT INTO meter_sample ({_SAMPLE_COLUMNS}) VALUES {placeholders}"  # noqa: S608
    await MeterSample.raw(sql, *args)


async def connector_row_of_session(session_id: int) -> int | None:
    row = (
        await ChargingSession.select(ChargingSession.connector)
        .where(ChargingSession.id == session_id)
        .first()
    )
    return row["connector"] if row else None


class SessionsByTransaction:
    """Grouped read (PostgreSQL): sessions by (station id, transaction id)."""

    @staticmethod
    async def read_many(
        connection: Any, keys: Sequence[tuple[int, str]]
    ) -> dict[tuple[int, str], SessionState]:
        rows = await connection.fetch(
            _STATE_SQL + "JOIN unnest($1::int[], $2::text[]) AS k(station, transaction_id) "
            "ON k.station = s.station AND k.transaction_id = s.transaction_id",
            [station for station, _ in keys],
            [transaction for _, transaction in keys],
        )
        return {(row["station"], row["transaction_id"]): _state(row) for row in rows}


class ActiveSessionsOnEvse:
    """Grouped read (PostgreSQL): the running session by (station id, EVSE number)."""

    @staticmethod
    async def read_many(
        connection: Any, keys: Sequence[tuple[int, int]]
    ) -> dict[tuple[int, int], SessionState]:
        rows = await connection.fetch(
            "SELECT DISTINCT ON (s.station, e.evse_id) "
            + _STATE_COLUMNS
            + _STATE_FROM
            + "JOIN unnest($1::int[], $2::int[]) AS k(station, evse_id) "
            "ON k.station = s.station AND k.evse_id = e.evse_id WHERE s.state = 'active' "
            "ORDER BY s.station, e.evse_id, s.started_at DESC",
            [station for station, _ in keys],
            [evse for _, evse in keys],
        )
        return {(row["station"], row["evse_number"]): _state(row) for row in rows}


async def active_on_evse(station_id: int, evse_id: int) -> SessionState | None:
    """The running session on an EVSE, for meter values sent without a transaction id."""
    rows = await ChargingSession.raw(
        _STATE_SQL
        + "WHERE s.station = {} AND s.state = 'active' AND e.evse_id = {} "
        + "ORDER BY s.started_at DESC LIMIT 1",
        station_id,
        evse_id,
    )
    return _state(rows[0]) if rows else None


async def user_of_session(station_id: int, transaction_id: str) -> int | None:
    row = (
        await ChargingSession.select(ChargingSession.user)
        .where(
            (ChargingSession.station == station_id)
            & (ChargingSession.transaction_id == transaction_id)
        )
        .first()
    )
    return row["user"] if row else None


_VIEW_COLUMNS = (
    ChargingSession.id,
    ChargingSession.organization,
    ChargingSession.station,
    ChargingSession.connector,
    ChargingSession.evse.evse_id.as_alias("evse_number"),
    ChargingSession.connector.connector_id.as_alias("connector_number"),
    ChargingSession.transaction_id,
    ChargingSession.id_token,
    ChargingSession.id_tag,
    ChargingSession.user,
    ChargingSession.state,
    ChargingSession.charging_state,
    ChargingSession.started_at,
    ChargingSession.ended_at,
    ChargingSession.meter_start_wh,
    ChargingSession.meter_stop_wh,
    ChargingSession.energy_wh,
    ChargingSession.power_w,
    ChargingSession.cost_minor,
    ChargingSession.currency,
    ChargingSession.stop_reason,
    ChargingSession.offline,
    ChargingSession.station.connected.as_alias("station_connected"),
)


def _view(row: dict[str, Any]) -> SessionView:
    return SessionView(
        id=row["id"],
        organization_id=row["organization"],
        station_id=row["station"],
        connector_row=row["connector"],
        evse_id=row["evse_number"],
        connector_id=row["connector_number"],
        transaction_id=row["transaction_id"],
        id_token_id=row["id_token"],
        id_tag=row["id_tag"],
        user_id=row["user"],
        state=row["state"],
        charging_state=row["charging_state"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        meter_start_wh=row["meter_start_wh"],
        meter_stop_wh=row["meter_stop_wh"],
        energy_wh=row["energy_wh"],
        power_w=row["power_w"],
        cost_minor=row["cost_minor"],
        currency=row["currency"],
        stop_reason=row["stop_reason"],
        station_connected=bool(row["station_connected"]),
        offline=row["offline"],
    )


async def page_sessions(
    organization_id: int, filters: SessionFilter, order: SessionOrder, request: PageRequest
) -> Page[SessionView]:
    session = ChargingSession
    query = session.select(*_VIEW_COLUMNS).where(session.organization == organization_id)
    exact = {
        session.state: filters.state,
        session.station: filters.station_id,
        session.user: filters.user_id,
        session.id_tag: filters.id_tag,
    }
    for column, value in exact.items():
        if value is not None:
            query = query.where(column == value)
    if filters.started_from is not None:
        query = query.where(session.started_at >= filters.started_from)
    if filters.started_before is not None:
        query = query.where(session.started_at < filters.started_before)
    newest = order is SessionOrder.NEWEST
    return await page_by_id(query, session.id, request, _view, newest_first=newest)


async def sessions_by_ids(organization_id: int, session_ids: Sequence[int]) -> list[SessionView]:
    rows = await ChargingSession.select(*_VIEW_COLUMNS).where(
        (ChargingSession.organization == organization_id)
        & ChargingSession.id.is_in(list(session_ids))
    )
    return [_view(row) for row in rows]


async def active_sessions_of_connectors(
    organization_id: int, connector_rows: Sequence[int]
) -> list[SessionView]:
    rows = (
        await ChargingSession.select(*_VIEW_COLUMNS)
        .where(
            (ChargingSession.organization == organization_id)
            & (ChargingSession.state == "active")
            & ChargingSession.connector.is_in(list(connector_rows))
        )
        .order_by(ChargingSession.started_at)
    )
    return [_view(row) for row in rows]


async def chart_readings(session_id: int, since: datetime | None = None) -> list[Reading]:
    """The energy register and power samples of a session (from `since`), oldest first."""
    query = (
        MeterSample.select(
            MeterSample.sampled_at,
            MeterSample.measurand,
            MeterSample.phase,
            MeterSample.location,
            MeterSample.unit,
            MeterSample.context,
            MeterSample.value,
        )
        .where(
            (MeterSample.session == session_id)
            & MeterSample.measurand.is_in(list(CHART_MEASURANDS))
        )
        .order_by(MeterSample.sampled_at)
    )
    if since is not None:
        query = query.where(MeterSample.sampled_at >= since)
    return [Reading(**row) for row in await query]


CHART_MEASURANDS = ("Energy.Active.Import.Register", "Power.Active.Import")


async def session_totals(
    organization_id: int,
    site_id: int | None,
    started_from: datetime | None,
    started_before: datetime | None,
) -> dict[str, Any]:
    """Running sessions now, and sessions and energy of those started in the period; with no
    period, the finished ones come from the tallies and the running ones are added."""
    clauses, arguments = ["cs.organization = {}"], [organization_id]
    join = ""
    if site_id is not None:
        join = " JOIN charging_station st ON st.id = cs.station"
        clauses.append("st.site = {}")
        arguments.append(site_id)
    where = " AND ".join(clauses)
    all_time = started_from is None and started_before is None
    # Their energy only counts without a period (a period's sessions are summed below); the
    # count alone is answered from the index.
    energy = ", COALESCE(SUM(cs.energy_wh), 0) AS energy" if all_time else ""
    active = await ChargingSession.raw(
        f"SELECT COUNT(*) AS count{energy} FROM charging_session cs{join} "  # noqa: S608
        f"WHERE {where} AND cs.state = 'active'",
        *arguments,
    )
    running = int(active[0]["count"])
    if all_time:
        finished = await tally.figures(organization_id, site_id, "session")
        return {
            "active": running,
            "sessions": running + sum(figure.quantity for figure in finished),
            "energy_wh": int(active[0]["energy"]) + sum(figure.amount for figure in finished),
        }
    period_clauses: list[str] = [where]
    period_arguments: list[Any] = list(arguments)
    if started_from is not None:
        period_clauses.append("cs.started_at >= {}")
        period_arguments.append(started_from)
    if started_before is not None:
        period_clauses.append("cs.started_at < {}")
        period_arguments.append(started_before)
    period = await ChargingSession.raw(
        "SELECT COUNT(*) AS count, COALESCE(SUM(cs.energy_wh), 0) AS energy "  # noqa: S608
        f"FROM charging_session cs{join} WHERE " + " AND ".join(period_clauses),
        *period_arguments,
    )
    return {
        "active": running,
        "sessions": int(period[0]["count"]),
        "energy_wh": int(period[0]["energy"]),
    }


async def billing_facts(session_id: int) -> dict[str, Any] | None:
    """What a CDR needs about a session: the session, its token, station, site and
    organization, in one row."""
    rows = await ChargingSession.raw(
        'SELECT s.id, s.organization, s.station, s."user", s.state, s.started_at, s.ended_at,'
        " s.meter_start_wh,"
        " s.energy_wh, s.id_tag, s.tariff_snapshot, s.seq_nos_seen, s.transaction_id,"
        " t.uid AS token_uid, t.type AS token_type, t.contract_id,"
        " t.partner AS token_partner, t.issued_as AS token_issued_as,"
        " t.preauthorized_until AS token_preauthorized_until,"
        " t.preauthorized_as AS token_preauthorized_as,"
        " t.authorization_reference AS token_authorization_reference,"
        " st.identity, e.evse_id AS evse_number, c.connector_id AS connector_number,"
        " e.id AS evse_row_id, e.evse_uid, c.standard AS connector_standard,"
        " c.format AS connector_format, c.power_type AS connector_power_type,"
        " c.max_voltage AS connector_max_voltage, c.max_amperage AS connector_max_amperage,"
        " site.id AS site_id, site.name AS site_name, site.address, site.city,"
        " site.postal_code, site.country, site.latitude, site.longitude,"
        " site.time_zone, o.default_currency"
        " FROM charging_session s"
        " JOIN organization o ON o.id = s.organization"
        " JOIN charging_station st ON st.id = s.station"
        " LEFT JOIN site ON site.id = st.site"
        " LEFT JOIN evse e ON e.id = s.evse"
        " LEFT JOIN connector c ON c.id = s.connector"
        " LEFT JOIN id_token t ON t.id = s.id_token"
        " WHERE s.id = {}",
        session_id,
    )
    if not rows:
        return None
    row = rows[0]
    for name in ("tariff_snapshot", "seq_nos_seen", "token_issued_as"):
        if isinstance(row[name], str):
            row[name] = json.loads(row[name])
    return row


async def signed_values(session_id: int) -> list[dict[str, Any]]:
    """Signed meter values of a session, as the station sent them (Eichrecht, OCMF)."""
    rows = (
        await MeterSample.select(
            MeterSample.sampled_at,
            MeterSample.context,
            MeterSample.signed_data,
            MeterSample.signing_method,
            MeterSample.encoding_method,
            MeterSample.public_key,
        )
        .where((MeterSample.session == session_id) & MeterSample.signed_data.is_not_null())
        .order_by(MeterSample.sampled_at)
    )
    return [
        {
            "nature": row["context"],
            "signed_data": row["signed_data"],
            "signing_method": row["signing_method"],
            "encoding_method": row["encoding_method"],
            "public_key": row["public_key"],
            "sampled_at": row["sampled_at"].isoformat(),
        }
        for row in rows
    ]


async def pricing_of(session_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Each session's tariff snapshot and its site's time zone."""
    if not session_ids:
        return []
    rows = await ChargingSession.select(
        ChargingSession.id,
        ChargingSession.tariff_snapshot,
        ChargingSession.station._.site._.time_zone.as_alias("time_zone"),
    ).where(ChargingSession.id.is_in(list(session_ids)))
    for row in rows:
        if isinstance(row["tariff_snapshot"], str):
            row["tariff_snapshot"] = json.loads(row["tariff_snapshot"])
    return rows


async def completed_without_cdr(ended_after: datetime, ended_before: datetime) -> list[int]:
    """Sessions that ended in the window and have no CDR yet (billing failed or waits for
    late data), oldest first."""
    rows = await ChargingSession.raw(
        "SELECT s.id FROM charging_session s LEFT JOIN cdr c ON c.session = s.id"
        " WHERE s.state = 'completed' AND s.ended_at > {} AND s.ended_at < {}"
        " AND c.id IS NULL ORDER BY s.ended_at LIMIT 200",
        ended_after,
        ended_before,
    )
    return [int(row["id"]) for row in rows]


async def cost_of(session_id: int) -> tuple[int, str] | None:
    """(cost incl. VAT in minor units, currency) of a billed session."""
    row = (
        await ChargingSession.select(ChargingSession.cost_minor, ChargingSession.currency)
        .where(ChargingSession.id == session_id)
        .first()
    )
    if not row or row["cost_minor"] is None or not row["currency"]:
        return None
    return int(row["cost_minor"]), str(row["currency"])


async def quiet_active_sessions(started_before: datetime, max_power_w: int) -> list[dict[str, Any]]:
    """Running sessions old enough to judge, that report little or no power: the ones a
    ghost or stuck check looks at."""
    return list(
        await ChargingSession.raw(
            "SELECT s.id, s.organization, s.station, st.identity, s.transaction_id,"
            " e.evse_id AS evse_number, c.connector_id AS connector_number, c.status AS"
            " connector_status, s.started_at, s.last_meter_at, s.meter_start_wh, s.energy_wh"
            " FROM charging_session s"
            " JOIN charging_station st ON st.id = s.station"
            " LEFT JOIN evse e ON e.id = s.evse"
            " LEFT JOIN connector c ON c.id = s.connector"
            " WHERE s.state = 'active' AND s.started_at < {}"
            " AND (s.power_w IS NULL OR s.power_w <= {})"
            " ORDER BY s.id LIMIT 1000",
            started_before,
            max_power_w,
        )
    )


async def last_meter_at(session_id: int) -> datetime | None:
    row = (
        await ChargingSession.select(ChargingSession.last_meter_at)
        .where(ChargingSession.id == session_id)
        .first()
    )
    return row["last_meter_at"] if row else None


async def count_of_organization(organization_id: int) -> int:
    """All the organization's sessions: the finished ones from the tallies, the running ones
    from the index."""
    finished = await tally.figures(organization_id, None, "session")
    running = await ChargingSession.count().where(
        (ChargingSession.organization == organization_id) & (ChargingSession.state == "active")
    )
    return int(running) + sum(figure.quantity for figure in finished)


async def count_active() -> int:
    """Sessions in progress, in every organization."""
    return int(await ChargingSession.count().where(ChargingSession.state == "active"))


# Sessions of a roaming partner's tokens, as the partner is told about them.

_PARTNER_SESSIONS = (
    "SELECT s.id, s.organization, s.state, s.started_at, s.ended_at, s.energy_wh,"
    " s.updated_at, s.partner_pushed_at, s.cost_minor, s.currency, s.id_tag,"
    " t.uid AS token_uid, t.type AS token_type, t.contract_id,"
    " t.partner AS token_partner, t.issued_as AS token_issued_as,"
    " t.preauthorized_until AS token_preauthorized_until,"
    " t.preauthorized_as AS token_preauthorized_as,"
    " t.authorization_reference AS token_authorization_reference,"
    " st.site AS site_id, s.evse AS evse_row_id, c.connector_id AS connector_number,"
    " o.default_currency"
    " FROM charging_session s"
    " JOIN organization o ON o.id = s.organization"
    " JOIN charging_station st ON st.id = s.station"
    " LEFT JOIN connector c ON c.id = s.connector"
    " LEFT JOIN id_token t ON t.id = s.id_token"
    " WHERE s.partner = {}"
)


def _partner_session_row(row: dict[str, Any]) -> dict[str, Any]:
    if isinstance(row["token_issued_as"], str):
        row["token_issued_as"] = json.loads(row["token_issued_as"])
    return row


async def partner_sessions_pending(partner_id: int, limit: int) -> list[dict[str, Any]]:
    """The partner's sessions whose last state its copy may lack, oldest first."""
    rows = await ChargingSession.raw(
        _PARTNER_SESSIONS + " AND s.partner_pending = {} ORDER BY s.id LIMIT {}",
        partner_id,
        True,
        limit,
    )
    return [_partner_session_row(row) for row in rows]


async def partner_session(partner_id: int, session_id: int) -> dict[str, Any] | None:
    rows = await ChargingSession.raw(_PARTNER_SESSIONS + " AND s.id = {}", partner_id, session_id)
    return _partner_session_row(rows[0]) if rows else None


async def partner_sessions(
    partner_id: int,
    updated_from: datetime | None,
    updated_to: datetime | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """A page of the partner's sessions, oldest first, and how many there are in all."""
    clauses, arguments = "", []
    if updated_from is not None:
        clauses += " AND s.updated_at >= {}"
        arguments.append(updated_from)
    if updated_to is not None:
        clauses += " AND s.updated_at < {}"
        arguments.append(updated_to)
    rows = await ChargingSession.raw(
        _PARTNER_SESSIONS + clauses + " ORDER BY s.id LIMIT {} OFFSET {}",
        partner_id,
        *arguments,
        limit,
        offset,
    )
    counted = await ChargingSession.raw(
        # Only placeholders are added to the text; the values go as parameters.
        "SELECT COUNT(*) AS total FROM charging_session s WHERE s.partner = {}"  # noqa: S608
        + clauses,
        partner_id,
        *arguments,
    )
    return [_partner_session_row(row) for row in rows], int(counted[0]["total"])


async def partner_session_pushed(session_id: int, updated_at: datetime, final: bool) -> None:
    """The partner has the session as it was at `updated_at`; `final`: its last state."""
    # Not a change of the session: updated_at stays (a newer change still goes out).
    await ChargingSession.update(
        {ChargingSession.partner_pushed_at: updated_at}, use_auto_update=False
    ).where(ChargingSession.id == session_id)
    if final:  # unless it changed meanwhile
        await ChargingSession.update(
            {ChargingSession.partner_pending: False}, use_auto_update=False
        ).where((ChargingSession.id == session_id) & (ChargingSession.updated_at == updated_at))
