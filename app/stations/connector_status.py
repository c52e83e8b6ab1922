"""One connector status across OCPP 1.6 and 2.0.1: a pure mapping from what a station reports."""

from __future__ import annotations

from enum import StrEnum


class ConnectorStatus(StrEnum):
    """A connector's state in the API, the same whichever OCPP version the station speaks."""

    AVAILABLE = "AVAILABLE"
    PREPARING = "PREPARING"  # plugged in or authorised, not charging yet
    CHARGING = "CHARGING"
    SUSPENDED_EV = "SUSPENDED_EV"
    SUSPENDED_EVSE = "SUSPENDED_EVSE"
    FINISHING = "FINISHING"
    OCCUPIED = "OCCUPIED"  # 2.0.1 Occupied with no known charging state
    RESERVED = "RESERVED"
    UNAVAILABLE = "UNAVAILABLE"
    FAULTED = "FAULTED"
    OFFLINE = "OFFLINE"  # the station is not connected: its last report may be stale
    UNKNOWN = "UNKNOWN"  # connected, but nothing (or nothing known) reported yet


_REPORTED = {
    # 1.6 ChargePointStatus and 2.0.1 ConnectorStatusEnumType share these names.
    "Available": ConnectorStatus.AVAILABLE,
    "Preparing": ConnectorStatus.PREPARING,
    "Charging": ConnectorStatus.CHARGING,
    "SuspendedEV": ConnectorStatus.SUSPENDED_EV,
    "SuspendedEVSE": ConnectorStatus.SUSPENDED_EVSE,
    "Finishing": ConnectorStatus.FINISHING,
    "Reserved": ConnectorStatus.RESERVED,
    "Unavailable": ConnectorStatus.UNAVAILABLE,
    "Faulted": ConnectorStatus.FAULTED,
    "Occupied": ConnectorStatus.OCCUPIED,
}

# 2.0.1 TransactionEvent chargingState refines an Occupied connector.
_CHARGING_STATE = {
    "Charging": ConnectorStatus.CHARGING,
    "SuspendedEV": ConnectorStatus.SUSPENDED_EV,
    "SuspendedEVSE": ConnectorStatus.SUSPENDED_EVSE,
    "EVConnected": ConnectorStatus.PREPARING,
    "Idle": ConnectorStatus.PREPARING,
}


REPORTED_STATUSES = tuple(_REPORTED)


def reported_as(status: ConnectorStatus) -> tuple[str, ...]:
    """The station values that read as `status` (ignoring chargingState), for filtering."""
    return tuple(raw for raw, normalised in _REPORTED.items() if normalised is status)


def normalise(
    raw_status: str | None, *, connected: bool = True, charging_state: str | None = None
) -> ConnectorStatus:
    """The API status of a connector from its station's own value (1.6 or 2.0.1)."""
    if not connected:
        return ConnectorStatus.OFFLINE
    status = _REPORTED.get(raw_status or "", ConnectorStatus.UNKNOWN)
    if status is ConnectorStatus.OCCUPIED and charging_state is not None:
        return _CHARGING_STATE.get(charging_state, status)
    return status
