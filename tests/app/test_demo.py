from app import tally
from app.auth.models import Principal, Role
from app.demo import ID_TOKENS, SITES, STATIONS, load_demo
from app.stations import service as stations
from db.tables import TABLES


async def snapshot() -> dict[str, list[dict]]:
    # Folded first: the shared live server folds the dashboard tallies on a timer of its own,
    # which could otherwise fall between two snapshots.
    await tally.fold()
    return {
        table._meta.tablename: await table.select().order_by(table._meta.primary_key)
        for table in TABLES
    }


async def test_demo_loads_an_operator_with_data(clean_db, unit_of_work):
    organization = await load_demo(unit_of_work())
    viewer = Principal(organization_id=organization.id, role=Role.VIEWER)
    sites = (await stations.page_sites(viewer)).items
    assert [site.name for site in sites] == [site["name"] for site in SITES]
    all_stations = (await stations.page_stations(viewer)).items
    assert {station.identity for station in all_stations} == {row[1] for row in STATIONS}
    connectors = await stations.connectors_by_station_ids(viewer, [s.id for s in all_stations])
    assert all(len(connectors[station.id]) == 2 for station in all_stations)
    tables = await snapshot()
    assert len(tables["id_token"]) == len(ID_TOKENS)
    assert len(tables["tariff"]) == 2


async def test_loading_the_demo_twice_changes_nothing(clean_db, unit_of_work):
    await load_demo(unit_of_work())
    first = await snapshot()
    await load_demo(unit_of_work())
    assert await snapshot() == first
