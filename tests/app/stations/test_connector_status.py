"""The connector status mapping, without a database."""

import pytest

from app.stations.connector_status import ConnectorStatus, normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Available", ConnectorStatus.AVAILABLE),
        ("Preparing", ConnectorStatus.PREPARING),
        ("Charging", ConnectorStatus.CHARGING),
        ("SuspendedEV", ConnectorStatus.SUSPENDED_EV),
        ("SuspendedEVSE", ConnectorStatus.SUSPENDED_EVSE),
        ("Finishing", ConnectorStatus.FINISHING),
        ("Reserved", ConnectorStatus.RESERVED),
        ("Unavailable", ConnectorStatus.UNAVAILABLE),
        ("Faulted", ConnectorStatus.FAULTED),
        ("Occupied", ConnectorStatus.OCCUPIED),
        ("Unknown", ConnectorStatus.UNKNOWN),
        (None, ConnectorStatus.UNKNOWN),
        ("Bogus", ConnectorStatus.UNKNOWN),
    ],
)
def test_each_reported_status_has_one_api_status(
    raw: str | None, expected: ConnectorStatus
) -> None:
    assert normalise(raw) is expected


def test_an_occupied_2_0_1_connector_that_charges_reads_like_a_1_6_one() -> None:
    assert normalise("Occupied", charging_state="Charging") is normalise("Charging")
    assert normalise("Occupied", charging_state="SuspendedEV") is ConnectorStatus.SUSPENDED_EV
    assert normalise("Occupied", charging_state="EVConnected") is ConnectorStatus.PREPARING


def test_the_charging_state_refines_only_an_occupied_connector() -> None:
    assert normalise("Faulted", charging_state="Charging") is ConnectorStatus.FAULTED


def test_a_connector_of_an_offline_station_reads_offline_whatever_it_last_said() -> None:
    assert normalise("Charging", connected=False) is ConnectorStatus.OFFLINE
