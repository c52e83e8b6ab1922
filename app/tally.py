"""The dashboard's all-time figures, kept current instead of recomputed per request.

Database triggers append every change (a station's or connector's state, a finished session,
a CDR) to `tally_change`; `fold` adds those into `tally`, one row per organization or site and
figure, so no write waits on a shared counter row. A read sums both tables: exact whatever
was folded yet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import TransactionType

from db.tables import Tally

Measure = Literal["station", "connector", "session", "revenue"]

# Written out in full: only constants, the values are parameters. Changes of an organization
# deleted meanwhile are dropped with it.
_POSTGRES_FOLD = (
    "WITH moved AS (DELETE FROM tally_change"
    " RETURNING organization, site, measure, online, label, quantity, amount)"
    " INSERT INTO tally (organization, site, measure, online, label, quantity, amount)"
    " SELECT organization, site, measure, online, label, SUM(quantity), SUM(amount) FROM moved"
    " WHERE EXISTS (SELECT 1 FROM organization o WHERE o.id = moved.organization)"
    " GROUP BY organization, site, measure, online, label"
    " ORDER BY organization, site, measure, online, label"
    " ON CONFLICT (organization, site, measure, online, label) DO UPDATE"
    " SET quantity = tally.quantity + excluded.quantity, amount = tally.amount + excluded.amount"
    " RETURNING quantity = 0 AND amount = 0 AS emptied"
)
# SQLite has one writer at a time: what was read up to an id is what is deleted.
_SQLITE_FOLD = (
    "INSERT INTO tally (organization, site, measure, online, label, quantity, amount)"
    " SELECT organization, site, measure, online, label, SUM(quantity), SUM(amount)"
    " FROM tally_change WHERE id <= {}"
    " AND EXISTS (SELECT 1 FROM organization o WHERE o.id = tally_change.organization)"
    " GROUP BY organization, site, measure, online, label"
    " ON CONFLICT (organization, site, measure, online, label) DO UPDATE"
    " SET quantity = tally.quantity + excluded.quantity, amount = tally.amount + excluded.amount"
    " RETURNING quantity = 0 AND amount = 0 AS emptied"
)
_READ = (
    "SELECT online, label, SUM(quantity) AS quantity, SUM(amount) AS amount FROM ("
    "SELECT online, label, quantity, amount FROM tally"
    " WHERE organization = {} AND site = {} AND measure = {}"
    " UNION ALL SELECT online, label, quantity, amount FROM tally_change"
    " WHERE organization = {} AND site = {} AND measure = {}"
    ") t GROUP BY online, label HAVING SUM(quantity) <> 0 OR SUM(amount) <> 0"
)


@dataclass(frozen=True)
class Figure:
    online: bool  # the station's connection (stations and connectors)
    label: str  # status as reported, or currency
    quantity: int  # stations, connectors, sessions or CDRs
    amount: int  # Wh of sessions, minor units of revenue


async def figures(organization_id: int, site_id: int | None, measure: Measure) -> list[Figure]:
    """One measure's figures for the organization, or for one of its sites."""
    scope = (organization_id, site_id or 0, measure)
    rows = await Tally.raw(_READ, *scope, *scope)
    return [
        Figure(
            online=bool(row["online"]),
            label=row["label"],
            quantity=int(row["quantity"]),
            amount=int(row["amount"]),
        )
        for row in rows
    ]


async def fold() -> None:
    """Add the pending changes into the tallies, and drop the rows that came to nothing."""
    engine = Tally._meta.db
    if isinstance(engine, PostgresEngine):
        folded = await Tally.raw(_POSTGRES_FOLD)
    else:
        # Looked up before taking the write lock, so an idle database is not locked each round.
        newest = (await Tally.raw("SELECT MAX(id) AS id FROM tally_change"))[0]["id"]
        if newest is None:
            return
        async with engine.transaction(transaction_type=TransactionType.immediate):
            folded = await Tally.raw(_SQLITE_FOLD, newest)
            await Tally.raw("DELETE FROM tally_change WHERE id <= {}", newest)
    if any(row["emptied"] for row in folded):
        await Tally.raw("DELETE FROM tally WHERE quantity = 0 AND amount = 0")
