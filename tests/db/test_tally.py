"""The dashboard tallies, kept by triggers, agree with the rows counted from scratch after
inserts, updates, moves between sites and deletes, before and after they are folded."""

from datetime import UTC, datetime

from app import tally
from db.migrate import migrate_backwards, migrate_forwards
from db.tables import (
    Cdr,
    ChargingSession,
    ChargingStation,
    Connector,
    Evse,
    Organization,
    Site,
    Tally,
    TallyChange,
)
from tests.conftest import quietly

TRIGGERS_MIGRATION = "2026-12-04T22:40:00:000000"
T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)


async def _recounted(organization_id: int, site_id: int | None) -> dict[str, dict]:
    """Each measure's figures counted from the rows themselves, as the tallies report them."""
    site_clause = "" if site_id is None else f" AND s.site = {int(site_id)}"
    queries = {
        "station": "SELECT s.connected AS online, s.status AS label, COUNT(*) AS quantity, "
        "0 AS amount FROM charging_station s WHERE s.organization = {}"
        + site_clause
        + " GROUP BY s.connected, s.status",
        "connector": "SELECT s.connected AS online, c.status AS label, COUNT(*) AS quantity, "
        "0 AS amount FROM connector c JOIN charging_station s ON s.id = c.station "
        "WHERE s.organization = {}" + site_clause + " GROUP BY s.connected, c.status",
        "session": "SELECT FALSE AS online, '' AS label, COUNT(*) AS quantity, "
        "SUM(cs.energy_wh) AS amount FROM charging_session cs "
        "LEFT JOIN charging_station s ON s.id = cs.station "
        "WHERE cs.state <> 'active' AND cs.organization = {}" + site_clause,
        "revenue": "SELECT FALSE AS online, c.currency AS label, COUNT(*) AS quantity, "
        "SUM(c.total_cost_incl_vat_minor) AS amount FROM cdr c "
        "LEFT JOIN charging_session cs ON cs.id = c.session "
        "LEFT JOIN charging_station s ON s.id = cs.station WHERE c.organization = {}"
        + site_clause
        + " GROUP BY c.currency",
    }
    counted: dict[str, dict] = {}
    for measure, query in queries.items():
        rows = await Tally.raw(query, organization_id)
        counted[measure] = {
            (bool(row["online"]), row["label"]): (int(row["quantity"]), int(row["amount"] or 0))
            for row in rows
            if int(row["quantity"])
        }
    return counted


async def _tallied(organization_id: int, site_id: int | None) -> dict[str, dict]:
    return {
        measure: {
            (figure.online, figure.label): (figure.quantity, figure.amount)
            for figure in await tally.figures(organization_id, site_id, measure)
        }
        for measure in ("station", "connector", "session", "revenue")
    }


async def _assert_agree(organization_id: int, site_ids: list[int]) -> None:
    for site_id in [None, *site_ids]:
        assert await _tallied(organization_id, site_id) == await _recounted(
            organization_id, site_id
        ), f"site {site_id}"


async def _station(
    organization: int, site: int | None, identity: str, connectors: int, *, bare: bool = False
) -> int:
    """A station with an EVSE and connectors; `bare`: written naming only the columns it
    needs, so that it can be written with later migrations undone."""
    if bare:
        await ChargingStation.raw(
            "INSERT INTO charging_station (organization, site, identity) VALUES ({}, {}, {})",
            organization,
            site,
            identity,
        )
        row = await ChargingStation.select(ChargingStation.id).where(
            ChargingStation.identity == identity
        )
        station_id = int(row[0]["id"])
    else:
        station = ChargingStation(organization=organization, site=site, identity=identity)
        await station.save()
        station_id = int(station.id)
    evse = Evse(station=station_id, evse_id=1)
    await evse.save()
    for number in range(1, connectors + 1):
        await Connector.insert(Connector(station=station_id, evse=evse.id, connector_id=number))
    return station_id


async def _session(organization: int, station: int, tx: str, energy: int, state: str) -> int:
    session = ChargingSession(
        organization=organization,
        station=station,
        transaction_id=tx,
        state=state,
        started_at=T0,
        energy_wh=energy,
    )
    await session.save()
    return int(session.id)


async def _cdr(organization: int, session: int, code: str, amount: int, currency: str) -> None:
    await Cdr.insert(
        Cdr(
            organization=organization,
            session=session,
            code=code,
            currency=currency,
            started_at=T0,
            ended_at=T0,
            total_cost_incl_vat_minor=amount,
        )
    )


async def _network(organization: int) -> tuple[int, int, int, int]:
    """Two sites, three stations, sessions running and finished, CDRs in two currencies."""
    north = Site(organization=organization, name="North")
    south = Site(organization=organization, name="South")
    await north.save()
    await south.save()
    a = await _station(organization, north.id, "TALLY-A", 2)
    b = await _station(organization, south.id, "TALLY-B", 1)
    await _station(organization, None, "TALLY-C", 1)
    await ChargingStation.update(
        {ChargingStation.connected: True, ChargingStation.status: "Available"}
    ).where(ChargingStation.id.is_in([a, b]))
    await Connector.update({Connector.status: "Occupied"}).where(Connector.station == a)
    done = await _session(organization, a, "t1", 5000, "completed")
    await _session(organization, a, "t2", 1200, "active")
    failed = await _session(organization, b, "t3", 0, "failed")
    await _cdr(organization, done, "C1", 1500, "EUR")
    await _cdr(organization, failed, "C2", 300, "CHF")
    return int(north.id), int(south.id), a, b


async def test_tallies_follow_every_change(organization):
    north, south, a, b = await _network(organization)
    await _assert_agree(organization, [north, south])

    # A running session finishes, then its energy is corrected; a charge is re-priced.
    running = (
        await ChargingSession.select(ChargingSession.id)
        .where(ChargingSession.state == "active")
        .first()
    )
    await ChargingSession.update(
        {ChargingSession.state: "completed", ChargingSession.energy_wh: 1300}
    ).where(ChargingSession.id == running["id"])
    await ChargingSession.update({ChargingSession.energy_wh: 1250}).where(
        ChargingSession.id == running["id"]
    )
    await Cdr.update({Cdr.total_cost_incl_vat_minor: 1600}).where(Cdr.code == "C1")
    await _assert_agree(organization, [north, south])

    await tally.fold()
    assert await TallyChange.count() == 0
    await _assert_agree(organization, [north, south])

    # Station A moves to the south site (its connectors, sessions and charges with it) and
    # goes offline; B's connector goes Faulted; one of A's connectors is removed.
    await ChargingStation.update({ChargingStation.site: south}).where(ChargingStation.id == a)
    await ChargingStation.update({ChargingStation.connected: False}).where(ChargingStation.id == a)
    await Connector.update({Connector.status: "Faulted"}).where(Connector.station == b)
    removed = await Connector.select(Connector.id).where(Connector.station == a).first()
    await Connector.delete().where(Connector.id == removed["id"])
    await _assert_agree(organization, [north, south])

    # A station without sessions is deleted with its connectors; a site is deleted.
    c = (
        await ChargingStation.select(ChargingStation.id)
        .where(ChargingStation.identity == "TALLY-C")
        .first()
    )
    await ChargingStation.delete().where(ChargingStation.id == c["id"])
    await Site.delete().where(Site.id == north)
    await _assert_agree(organization, [north, south])
    await tally.fold()
    await _assert_agree(organization, [north, south])
    # Rows that came to nothing (the north site's) are gone after a fold.
    assert not await Tally.exists().where((Tally.site == north) & (Tally.quantity == 0))


async def test_a_deleted_organization_takes_its_tallies(organization):
    other = Organization(name="Other", slug="other-tally")
    await other.save()
    await _station(int(other.id), None, "OTHER-1", 2)
    await _station(organization, None, "MINE-1", 1)
    await tally.fold()
    await Organization.delete().where(Organization.id == other.id)
    await tally.fold()
    assert not await Tally.exists().where(Tally.organization == other.id)
    assert not await TallyChange.exists().where(TallyChange.organization == other.id)
    await _assert_agree(organization, [])


async def test_the_migration_counts_what_exists(organization):
    north, south, _, _ = await _network(organization)
    try:
        await quietly(lambda: migrate_backwards(TRIGGERS_MIGRATION))
        # Without the triggers, new rows are not tallied...
        await _station(organization, north, "UNTALLIED", 3, bare=True)
    finally:
        await quietly(migrate_forwards)
    # ... until the migration counts everything there is.
    await _assert_agree(organization, [north, south])
