"""Keep the dashboard's tallies current: row triggers append every change in a station's or
connector's state, a finished session or a CDR to `tally_change`, and the existing rows are
counted once into `tally`.

Each trigger is one list of statements, the same on both databases, wrapped as a plpgsql
function on PostgreSQL and as a trigger body on SQLite. A change is written once for the
organization (site 0) and once more for the site it belongs to, and only while its organization
exists: the rows of a deleted organization go with it."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

ID = "2026-12-04T22:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tally triggers"

COLUMNS = "organization, site, measure, online, label, quantity, amount"
# (name, table, columns, unique): a frozen copy of db/tables.py's.
INDEXES = [
    ("tally_key", "tally", ("organization", "site", "measure", "online", "label"), True),
    ("tally_change_scope", "tally_change", ("organization", "site"), False),
]

# Written as on PostgreSQL; SQLite spells it IS NOT.
DISTINCT = "IS DISTINCT FROM"


class RawTable(Table):
    """Only used to run raw SQL on the configured engine."""


def _changed(*columns: str) -> str:
    return "(" + " OR ".join(f"OLD.{c} {DISTINCT} NEW.{c}" for c in columns) + ")"


def _fan_out(facts: str, scopes: str = "SELECT 1 AS whole UNION ALL SELECT 0") -> str:
    """Rows of `facts` (a SELECT of COLUMNS) once for the organization and once for their
    site, of organizations that still exist."""
    return (
        "SELECT f.organization AS organization, "
        "CASE WHEN scope.whole = 1 THEN 0 ELSE f.site END AS site, f.measure AS measure, "
        "f.online AS online, f.label AS label, f.quantity AS quantity, f.amount AS amount "
        f"FROM ({facts}) f JOIN ({scopes}) scope ON scope.whole = 1 OR f.site IS NOT NULL "
        "WHERE EXISTS (SELECT 1 FROM organization o WHERE o.id = f.organization)"
    )


def _append(facts: str, *, whole: bool = True) -> str:
    scopes = "SELECT 1 AS whole UNION ALL SELECT 0" if whole else "SELECT 0 AS whole"
    return f"INSERT INTO tally_change ({COLUMNS}) " + _fan_out(facts, scopes)


# Facts of one row (OLD or NEW), counted with a sign.


def _station(row: str, sign: int) -> str:
    return (
        f"SELECT {row}.organization AS organization, {row}.site AS site, "
        f"'station' AS measure, {row}.connected AS online, {row}.status AS label, "
        f"{sign} AS quantity, 0 AS amount"
    )


def _stations_connectors(row: str, sign: int, when: str = "TRUE") -> str:
    return (
        f"SELECT {row}.organization AS organization, {row}.site AS site, "
        f"'connector' AS measure, {row}.connected AS online, c.status AS label, "
        f"{sign} * COUNT(*) AS quantity, 0 AS amount "
        f"FROM connector c WHERE c.station = {row}.id AND {when} GROUP BY c.status"
    )


def _stations_sessions(row: str, sign: int, when: str) -> str:
    return (
        f"SELECT cs.organization AS organization, {row}.site AS site, 'session' AS measure, "
        f"FALSE AS online, '' AS label, {sign} * COUNT(*) AS quantity, "
        f"{sign} * SUM(cs.energy_wh) AS amount FROM charging_session cs "
        f"WHERE cs.station = {row}.id AND cs.state <> 'active' AND {when} "
        "GROUP BY cs.organization"
    )


def _stations_cdrs(row: str, sign: int, when: str) -> str:
    return (
        f"SELECT c.organization AS organization, {row}.site AS site, 'revenue' AS measure, "
        f"FALSE AS online, c.currency AS label, {sign} * COUNT(*) AS quantity, "
        f"{sign} * SUM(c.total_cost_incl_vat_minor) AS amount "
        f"FROM cdr c JOIN charging_session cs ON cs.id = c.session "
        f"WHERE cs.station = {row}.id AND {when} GROUP BY c.organization, c.currency"
    )


def _connector(row: str, sign: int) -> str:
    return (
        "SELECT s.organization AS organization, s.site AS site, 'connector' AS measure, "
        f"s.connected AS online, {row}.status AS label, {sign} AS quantity, 0 AS amount "
        f"FROM charging_station s WHERE s.id = {row}.station"
    )


def _session(row: str, sign: int) -> str:
    return (
        f"SELECT {row}.organization AS organization, "
        f"(SELECT s.site FROM charging_station s WHERE s.id = {row}.station) AS site, "
        f"'session' AS measure, FALSE AS online, '' AS label, {sign} AS quantity, "
        f"{sign} * {row}.energy_wh AS amount WHERE {row}.state <> 'active'"
    )


def _sessions_cdrs(row: str, sign: int) -> str:
    return (
        "SELECT c.organization AS organization, s.site AS site, 'revenue' AS measure, "
        f"FALSE AS online, c.currency AS label, {sign} * COUNT(*) AS quantity, "
        f"{sign} * SUM(c.total_cost_incl_vat_minor) AS amount "
        f"FROM cdr c JOIN charging_station s ON s.id = {row}.station "
        f"WHERE c.session = {row}.id GROUP BY c.organization, s.site, c.currency"
    )


def _cdr(row: str, sign: int) -> str:
    return (
        f"SELECT {row}.organization AS organization, (SELECT s.site FROM charging_session cs "
        f"JOIN charging_station s ON s.id = cs.station WHERE cs.id = {row}.session) AS site, "
        f"'revenue' AS measure, FALSE AS online, {row}.currency AS label, {sign} AS quantity, "
        f"{sign} * {row}.total_cost_incl_vat_minor AS amount"
    )


MOVED = _changed("organization", "site", "connected")
SITE_MOVED = _changed("organization", "site")

# (name, table, timing and event, condition or None, statements)
TRIGGERS: list[tuple[str, str, str, str | None, list[str]]] = [
    ("tally_station_insert", "charging_station", "AFTER INSERT", None,
     [_append(_station("NEW", 1))]),
    ("tally_station_update", "charging_station",
     "AFTER UPDATE OF organization, site, connected, status",
     _changed("organization", "site", "connected", "status"),
     [
         _append(_station("OLD", -1)),
         _append(_station("NEW", 1)),
         # Its connectors follow its connection, site and organization; its finished
         # sessions and their charges its site.
         _append(_stations_connectors("OLD", -1, MOVED)),
         _append(_stations_connectors("NEW", 1, MOVED)),
         _append(_stations_sessions("OLD", -1, SITE_MOVED)),
         _append(_stations_sessions("NEW", 1, SITE_MOVED)),
         _append(_stations_cdrs("OLD", -1, SITE_MOVED)),
         _append(_stations_cdrs("NEW", 1, SITE_MOVED)),
     ]),
    # Before: its connectors are deleted after it, when they can no longer find it. A
    # station with sessions cannot be deleted.
    ("tally_station_delete", "charging_station", "BEFORE DELETE", None,
     [_append(_station("OLD", -1)), _append(_stations_connectors("OLD", -1))]),
    ("tally_connector_insert", "connector", "AFTER INSERT", None,
     [_append(_connector("NEW", 1))]),
    ("tally_connector_update", "connector", "AFTER UPDATE OF station, status",
     _changed("station", "status"),
     [_append(_connector("OLD", -1)), _append(_connector("NEW", 1))]),
    ("tally_connector_delete", "connector", "AFTER DELETE", None,
     [_append(_connector("OLD", -1))]),
    # Only finished sessions are tallied: a running one changes its energy all the time.
    ("tally_session_insert", "charging_session", "AFTER INSERT", "NEW.state <> 'active'",
     [_append(_session("NEW", 1))]),
    ("tally_session_update", "charging_session", "AFTER UPDATE OF state, energy_wh",
     f"(OLD.state <> 'active' OR NEW.state <> 'active') AND {_changed('state', 'energy_wh')}",
     [_append(_session("OLD", -1)), _append(_session("NEW", 1))]),
    # Its charges stay the organization's, but no longer belong to a site.
    ("tally_session_delete", "charging_session", "BEFORE DELETE", None,
     [_append(_session("OLD", -1)), _append(_sessions_cdrs("OLD", -1), whole=False)]),
    ("tally_cdr_insert", "cdr", "AFTER INSERT", None, [_append(_cdr("NEW", 1))]),
    ("tally_cdr_update", "cdr",
     "AFTER UPDATE OF organization, session, currency, total_cost_incl_vat_minor",
     _changed("organization", "session", "currency", "total_cost_incl_vat_minor"),
     [_append(_cdr("OLD", -1)), _append(_cdr("NEW", 1))]),
    ("tally_cdr_delete", "cdr", "AFTER DELETE", None, [_append(_cdr("OLD", -1))]),
    ("tally_organization_delete", "organization", "AFTER DELETE", None,
     [
         "DELETE FROM tally WHERE organization = OLD.id",
         "DELETE FROM tally_change WHERE organization = OLD.id",
     ]),
]

# Every existing row counted once: the same facts, grouped over whole tables.
EXISTING = " UNION ALL ".join(
    [
        "SELECT s.organization AS organization, s.site AS site, 'station' AS measure, "
        "s.connected AS online, s.status AS label, COUNT(*) AS quantity, 0 AS amount "
        "FROM charging_station s GROUP BY s.organization, s.site, s.connected, s.status",
        "SELECT s.organization, s.site, 'connector', s.connected, c.status, COUNT(*), 0 "
        "FROM connector c JOIN charging_station s ON s.id = c.station "
        "GROUP BY s.organization, s.site, s.connected, c.status",
        "SELECT cs.organization, s.site, 'session', FALSE, '', COUNT(*), SUM(cs.energy_wh) "
        "FROM charging_session cs LEFT JOIN charging_station s ON s.id = cs.station "
        "WHERE cs.state <> 'active' GROUP BY cs.organization, s.site",
        "SELECT c.organization, s.site, 'revenue', FALSE, c.currency, COUNT(*), "
        "SUM(c.total_cost_incl_vat_minor) FROM cdr c "
        "LEFT JOIN charging_session cs ON cs.id = c.session "
        "LEFT JOIN charging_station s ON s.id = cs.station "
        "GROUP BY c.organization, s.site, c.currency",
    ]
)
COUNT_EXISTING = (
    f"INSERT INTO tally ({COLUMNS}) SELECT organization, site, measure, online, label, "
    f"SUM(quantity), SUM(amount) FROM ({_fan_out(EXISTING)}) t "
    "GROUP BY organization, site, measure, online, label"
)


def _postgres_statements(name: str, table: str, event: str, when: str | None,
                         statements: list[str]) -> list[str]:
    # A BEFORE trigger returning NULL would cancel the delete.
    result = "OLD" if event.startswith("BEFORE") else "NULL"
    body = "".join(f"{statement}; " for statement in statements)
    condition = f" WHEN ({when})" if when else ""
    return [
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN {body}RETURN {result}; END $$",
        f"DROP TRIGGER IF EXISTS {name} ON {table}",
        f"CREATE TRIGGER {name} {event} ON {table} FOR EACH ROW{condition} "
        f"EXECUTE FUNCTION {name}()",
    ]


def _sqlite_statements(name: str, table: str, event: str, when: str | None,
                       statements: list[str]) -> list[str]:
    body = "".join(f"{statement}; " for statement in statements).replace(DISTINCT, "IS NOT")
    condition = f" WHEN {when.replace(DISTINCT, 'IS NOT')}" if when else ""
    return [
        f"DROP TRIGGER IF EXISTS {name}",
        f"CREATE TRIGGER {name} {event} ON {table} FOR EACH ROW{condition} BEGIN {body}END",
    ]


async def _run(statement: str) -> None:
    await RawTable.raw(statement)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cpms", description=DESCRIPTION)

    async def apply() -> None:
        postgres = isinstance(RawTable._meta.db, PostgresEngine)
        for name, table, columns, unique in INDEXES:
            kind = "UNIQUE INDEX" if unique else "INDEX"
            column_list = ", ".join(f'"{column}"' for column in columns)
            await _run(f'CREATE {kind} IF NOT EXISTS "{name}" ON "{table}" ({column_list})')
        wrap = _postgres_statements if postgres else _sqlite_statements
        for trigger in TRIGGERS:
            for statement in wrap(*trigger):
                await _run(statement)
        # With the triggers in place (and, on PostgreSQL, their tables locked until commit),
        # what exists is counted once.
        await _run("DELETE FROM tally_change")
        await _run("DELETE FROM tally")
        await _run(COUNT_EXISTING)

    async def undo() -> None:
        postgres = isinstance(RawTable._meta.db, PostgresEngine)
        for name, table, *_ in reversed(TRIGGERS):
            if postgres:
                await _run(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                await _run(f"DROP FUNCTION IF EXISTS {name}()")
            else:
                await _run(f"DROP TRIGGER IF EXISTS {name}")
        for name, *_ in reversed(INDEXES):
            await _run(f'DROP INDEX IF EXISTS "{name}"')

    manager.add_raw(apply)
    manager.add_raw_backwards(undo)
    return manager
