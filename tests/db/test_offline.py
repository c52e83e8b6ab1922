"""Many stations going offline in one go: a node that stops, or one that died."""

from app.stations import service as stations
from app.stations.repository import CONNECTED, DISCONNECTED
from db.tables import ChargingStation, StatusChange


async def test_a_node_with_thousands_of_stations_takes_them_all_offline(organization, unit_of_work):
    # More than one statement's 32,767 parameters' worth of connection history.
    count = 7_000
    for start in range(0, count, 500):
        await ChargingStation.insert(
            *(
                ChargingStation(
                    organization=organization,
                    identity=f"CP-OFF-{number:05d}",
                    connected=True,
                    node_id="node-stopping",
                )
                for number in range(start, min(count, start + 500))
            )
        )
    await ChargingStation.insert(
        ChargingStation(
            organization=organization, identity="CP-ELSEWHERE", connected=True, node_id="node-2"
        )
    )

    assert await stations.mark_node_offline(unit_of_work(), "node-stopping") == count

    still_connected = await ChargingStation.select(ChargingStation.identity).where(
        ChargingStation.connected == True  # noqa: E712
    )
    assert still_connected == [{"identity": "CP-ELSEWHERE"}]
    history = await StatusChange.count().where(StatusChange.status == DISCONNECTED)
    assert history == count
    assert await StatusChange.count().where(StatusChange.status == CONNECTED) == 0
