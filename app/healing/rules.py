"""Self-healing rules: which faults a remote reset may clear and when to try it, and which open
sessions are ghosts or stuck.

Pure logic: no I/O and no clock. The caller passes what the station reported, the recovery
attempts already made, the time now and the organization's `HealingPolicy`; the rules say what
to do and why, the healing service does it and records it.

Fault codes. The OCPP 1.6 ChargePointErrorCode names are the reference vocabulary: policies list
them, alerts show them. OCPP 2.0.1 has no error code; a station reports a problem by NotifyEvent
against its device model (a component and a variable), and `error_code_for_event` maps that
onto the 1.6 name that means the same. Where 1.6 has no such name (an emergency stop, a flood
sensor, a tilted station), the code is the 2.0.1 name itself, "Component.Variable", so that
operators see where it came from and can list it in a policy like any other code.

Recovery (`decide_recovery`), after REFERENCE.md section 7: safety faults are never reset and
alert at once; a running session is never interrupted; the first step is a soft reset (an
UnlockConnector first for a lock failure), then hard resets, with a back-off before each; at
most `max_attempts` within a sliding window, and then people are alerted.

Sessions: a ghost (`is_ghost_session`) is an open session whose meter shows nothing flowing for
the whole idle window while the connector does not report a legitimate pause; a stuck session
(`is_stuck_session`) is one that sends no meter values at all, so its state cannot be judged.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any

from app.healing.models import AlertSeverity


class FaultClass(StrEnum):
    """What a reported fault calls for."""

    NONE = "none"  # NoError: nothing to do (a fault reported before has cleared)
    RECOVERABLE = "recoverable"  # usually a software or peripheral state a remote reset clears
    SAFETY = "safety"  # an electrical, thermal or physical hazard: never reset remotely
    OTHER = "other"  # real, but a reset does not help: alert people only


class RecoveryAction(StrEnum):
    """A remote step that may clear a recoverable fault (the OCPP 1.6 Reset types; the gateway
    maps them onto 2.0.1, whose Reset has no soft/hard distinction)."""

    UNLOCK = "unlock"  # UnlockConnector: the lock actuator tries again, a trapped cable is freed
    SOFT_RESET = "soft_reset"  # restart the station's software
    HARD_RESET = "hard_reset"  # reboot the station, hardware included


# --- Fault codes -------------------------------------------------------------------------------

NO_ERROR = "NoError"
OTHER_ERROR = "OtherError"
CONNECTOR_LOCK_FAILURE = "ConnectorLockFailure"

OCPP16_ERROR_CODES = frozenset(
    {
        "ConnectorLockFailure",
        "EVCommunicationError",
        "GroundFailure",
        "HighTemperature",
        "InternalError",
        "LocalListConflict",
        "NoError",
        "OtherError",
        "OverCurrentFailure",
        "OverVoltage",
        "PowerMeterFailure",
        "PowerSwitchFailure",
        "ReaderFailure",
        "ResetFailure",
        "UnderVoltage",
        "WeakSignal",
    }
)
_CANONICAL_16 = {code.casefold(): code for code in OCPP16_ERROR_CODES}
_CATCH_ALL_CODES = frozenset({"othererror", "internalerror"})

# The 1.6 codes left out of both lists are alert-only (FaultClass.OTHER), because a reset does
# not change them: EVCommunicationError (the vehicle or its cable, gone when the EV leaves),
# WeakSignal (radio reception), LocalListConflict (fixed by sending the local list), and
# ResetFailure (the station could not reset: another reset is what just failed).
DEFAULT_RECOVERABLE_CODES = frozenset(
    {
        "InternalError",  # the station's own software or hardware state: a restart is the cure
        "OtherError",  # 1.6's catch-all; unknown codes count as this (REFERENCE.md 1.6)
        "ReaderFailure",  # the RFID reader is a peripheral the restart re-initialises
        # The lock actuator stuck (ice, a cable pulled at an angle): UnlockConnector first,
        # then resets (see `calls_for_unlock`).
        "ConnectorLockFailure",
        # Mostly the controller lost its Modbus link to the meter, which a reboot restores; a
        # meter that is really broken is escalated once the attempts run out.
        "PowerMeterFailure",
    }
)
DEFAULT_SAFETY_CODES = frozenset(
    {
        # REFERENCE.md section 7: never auto-reset these, send field service.
        "GroundFailure",  # residual current / insulation fault: someone may get a shock
        "OverCurrentFailure",  # a protection device tripped
        "OverVoltage",
        "UnderVoltage",
        "HighTemperature",
        # A contactor that does not open (welded) leaves the cable live after unplugging.
        "PowerSwitchFailure",
        # 2.0.1 events with no 1.6 name that are hazards (see `error_code_for_event`).
        "EmergencyStopSensor.Tripped",  # someone pressed the emergency stop
        "FloodSensor.Tripped",
        "CableBreakawaySensor.Tripped",  # the cable was torn off
        "TiltSensor.Angle",  # the station was knocked over
        "ShockSensor.Force",  # the station was hit
        "ElectricalFeed.Problem",  # the supply itself: phase loss, voltage out of range
        "UpstreamProtectionTrigger.Problem",  # the last-resort protection does not work
        "UpstreamProtectionTrigger.Tripped",  # the station had to cut its own supply
        # A protection of the station, an EVSE or a connector tripped; 2.0.1 does not say which.
        "ChargingStation.Tripped",
        "EVSE.Tripped",
        "Connector.Tripped",
        "AcDcConverter.Tripped",
    }
)

# Words in a station's free-text info or vendor code that name a hazard, read when the code is a
# catch-all: a station may report a tripped RCD as OtherError with the detail only in words.
# Reading it as a safety fault costs at worst a missed automatic reset; the opposite mistake
# could reset a station into a real hazard.
_HAZARD_WORDS = re.compile(
    r"\b(ground[ -]?fault|earth[ -]?fault|residual[ -]?current|rcd|rcm|rcmu|insulation"
    r"|isolation[ -]?fault|over[ -]?current|over[ -]?voltage|under[ -]?voltage"
    r"|over[ -]?temp\w*|overheat\w*|emergency[ -]?stop|e-?stop|welded|smoke|fire)\b",
    re.IGNORECASE,
)


# --- Policy ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HealingPolicy:
    """An organization's self-healing thresholds; `from_settings` reads its overrides.

    Codes in the two lists compare case-insensitively, against both the 1.6 error code and the
    vendor error code (2.0.1: the event's techCode), so a vendor code can be listed too. A code
    in neither list is alert-only (a code in both is safety).
    """

    # Off: faults are only alerted, never acted on.
    auto_recovery: bool = True
    # Remote attempts (unlock, soft or hard reset) allowed within `attempt_window`: three is a
    # soft and two hard resets; a fault that survives those needs a person.
    max_attempts: int = 3
    # A sliding window: an attempt older than this no longer counts.
    attempt_window: timedelta = timedelta(hours=1)
    # The wait before attempt n+1, n being the attempts already made in the window, counted from
    # the previous attempt (from when the fault was seen, for the first); past the end the last
    # one repeats. Nothing before the first try; 2 min lets a reset station boot and report
    # again; 10 min gives a fault that comes and goes time to show itself.
    backoff: tuple[timedelta, ...] = (
        timedelta(0),
        timedelta(minutes=2),
        timedelta(minutes=10),
    )
    recoverable_codes: frozenset[str] = DEFAULT_RECOVERABLE_CODES
    safety_codes: frozenset[str] = DEFAULT_SAFETY_CODES
    # How long a session must show nothing flowing to be a ghost: REFERENCE.md section 7 says
    # 15 min, which also outlasts the short pauses some EVs make without saying SuspendedEV.
    ghost_idle: timedelta = timedelta(minutes=15)
    # Power at or below this counts as not charging. REFERENCE.md section 7 says about 100 W:
    # above what a meter reads on an idle line, well below what an on-board charger draws while
    # it charges at all.
    ghost_max_power_w: int = 100
    # A rise of the energy register at or below this over the idle window counts as not moving:
    # one step of a meter that counts in 10 Wh, and under a 40 W average over 15 min.
    ghost_max_energy_wh: int = 10
    # No meter value for this long and the session is stuck: twice a 15 min clock-aligned
    # interval, so a station sending only clock-aligned values is not flagged.
    stuck_after: timedelta = timedelta(minutes=30)
    # A station disconnected this long gets an alert; shorter gaps are reconnects and network
    # blips that fix themselves, or a station rebooting.
    offline_alert_after: timedelta = timedelta(minutes=5)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> HealingPolicy:
        """The policy with an organization's overrides: pass its `settings.get("healing")`.

        Keys (all optional): auto_recovery (bool), max_attempts (1-10), attempt_window_s,
        backoff_s (a list of seconds), ghost_idle_s, ghost_max_power_w, ghost_max_energy_wh,
        stuck_after_s, offline_alert_after_s, and recoverable_codes, safety_codes and
        alert_only_codes: lists of codes to put in that class, out of the one they are in by
        default. The codes not listed keep their default class, so that listing one code can
        never take GroundFailure out of the safety list by accident. Bad input raises
        ValueError naming the key.
        """
        if settings is None:
            return cls()
        if not isinstance(settings, Mapping):
            raise ValueError("the healing settings must be a JSON object")
        unknown = sorted(str(key) for key in settings if key not in _SETTING_KEYS)
        if unknown:
            raise ValueError(
                f"unknown healing setting {unknown[0]!r}; known: {', '.join(_SETTING_KEYS)}"
            )
        changes: dict[str, Any] = {}
        if "auto_recovery" in settings:
            changes["auto_recovery"] = _flag(settings["auto_recovery"], "auto_recovery")
        for key, (low, high) in _WHOLE_NUMBERS.items():
            if key in settings:
                changes[key] = _whole_number(settings[key], key, low, high)
        for key, (name, low, high) in _DURATIONS.items():
            if key in settings:
                changes[name] = _seconds(settings[key], key, low, high)
        if "backoff_s" in settings:
            changes["backoff"] = _backoff(settings["backoff_s"])
        changes.update(_code_lists(settings))
        return replace(cls(), **changes)

    def is_safety(self, code: str | None) -> bool:
        """Whether the policy lists this code (1.6, 2.0.1 or vendor) as a safety fault."""
        return _listed(code, self.safety_codes)

    def is_recoverable(self, code: str | None) -> bool:
        """Whether the policy lists this code as one a remote reset may clear (safety wins)."""
        return _listed(code, self.recoverable_codes) and not self.is_safety(code)


DEFAULT_POLICY = HealingPolicy()

# JSON key -> (least, most); the key is also the field's name.
_WHOLE_NUMBERS = {
    "max_attempts": (1, 10),
    "ghost_max_power_w": (0, 1_000),
    "ghost_max_energy_wh": (0, 1_000),
}
# JSON key (seconds) -> (field, least, most).
_DURATIONS = {
    "attempt_window_s": ("attempt_window", 60, 7 * 86_400),
    "ghost_idle_s": ("ghost_idle", 60, 86_400),
    "stuck_after_s": ("stuck_after", 60, 86_400),
    "offline_alert_after_s": ("offline_alert_after", 0, 86_400),
}
_MOST_BACKOFF_STEPS = 10
_MOST_BACKOFF_S = 86_400
_MOST_CODES = 200
_CODE_KEYS = ("recoverable_codes", "safety_codes", "alert_only_codes")
_SETTING_KEYS = (
    "auto_recovery",
    *_WHOLE_NUMBERS,
    *_DURATIONS,
    "backoff_s",
    *_CODE_KEYS,
)


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"healing setting {key!r} must be true or false, not {value!r}")
    return value


def _whole_number(value: Any, key: str, low: int, high: int) -> int:
    # bool is an int in Python, but `true` is no count.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(
            f"healing setting {key!r} must be a whole number from {low} to {high}, not {value!r}"
        )
    return value


def _seconds(value: Any, key: str, low: int, high: int) -> timedelta:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise ValueError(
            f"healing setting {key!r} must be a number of seconds from {low} to {high}, "
            f"not {value!r}"
        )
    return timedelta(seconds=value)


def _backoff(value: Any) -> tuple[timedelta, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= _MOST_BACKOFF_STEPS:
        raise ValueError(
            f"healing setting 'backoff_s' must be a list of 1 to {_MOST_BACKOFF_STEPS} numbers "
            f"of seconds, not {value!r}"
        )
    return tuple(_seconds(step, "backoff_s", 0, _MOST_BACKOFF_S) for step in value)


def _code_list(value: Any, key: str) -> frozenset[str]:
    if not isinstance(value, list) or len(value) > _MOST_CODES:
        raise ValueError(
            f"healing setting {key!r} must be a list of at most {_MOST_CODES} codes, not {value!r}"
        )
    codes: set[str] = set()
    for item in value:
        code = item.strip() if isinstance(item, str) else ""
        if not code:
            raise ValueError(f"healing setting {key!r} holds {item!r}, which is not a code")
        if code.casefold() == NO_ERROR.casefold():
            raise ValueError(f"healing setting {key!r} lists NoError, which is not a fault")
        codes.add(_CANONICAL_16.get(code.casefold(), code))
    return frozenset(codes)


def _code_lists(settings: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """The two code lists after moving the listed codes into their class; {} if none is given."""
    moves = {key: _code_list(settings[key], key) for key in _CODE_KEYS if key in settings}
    if not moves:
        return {}
    keys = list(moves)
    for index, key in enumerate(keys):
        for other in keys[index + 1 :]:
            both = sorted(_folded(moves[key]) & _folded(moves[other]))
            if both:
                raise ValueError(f"{both[0]!r} is in both healing settings {key!r} and {other!r}")
    recoverable = moves.get("recoverable_codes", frozenset())
    safety = moves.get("safety_codes", frozenset())
    alert_only = moves.get("alert_only_codes", frozenset())
    return {
        "recoverable_codes": _without(DEFAULT_RECOVERABLE_CODES, safety | alert_only) | recoverable,
        "safety_codes": _without(DEFAULT_SAFETY_CODES, recoverable | alert_only) | safety,
    }


def _folded(codes: frozenset[str]) -> set[str]:
    return {code.casefold() for code in codes}


def _without(codes: frozenset[str], taken: frozenset[str]) -> frozenset[str]:
    gone = _folded(taken)
    return frozenset(code for code in codes if code.casefold() not in gone)


def _listed(code: str | None, codes: frozenset[str]) -> bool:
    return code is not None and code.casefold() in _folded(codes)


# --- Classification ----------------------------------------------------------------------------


def classify_fault(
    error_code: str | None,
    vendor_error_code: str | None = None,
    info: str | None = None,
    *,
    policy: HealingPolicy = DEFAULT_POLICY,
) -> FaultClass:
    """What a reported fault calls for (1.6 StatusNotification fields, or a mapped 2.0.1 event).

    In order: no code or NoError is no fault; a code or vendor code the policy lists as safety
    is safety; a vendor code it lists as recoverable is recoverable (the vendor's code is more
    specific than the generic one); a catch-all code (OtherError, InternalError, or one outside
    the 1.6 enumeration) whose info or vendor code names a hazard is safety; then the code's
    own listing. A known code in neither list is alert-only; a code outside the 1.6 enumeration
    counts as OtherError (REFERENCE.md 1.6), an unknown 2.0.1 name as alert-only.
    """
    code = _clean(error_code)
    if code is None or code.casefold() == NO_ERROR.casefold():
        return FaultClass.NONE
    vendor = _clean(vendor_error_code)
    if policy.is_safety(code) or policy.is_safety(vendor):
        return FaultClass.SAFETY
    if policy.is_recoverable(vendor):
        return FaultClass.RECOVERABLE
    if _is_catch_all(code) and (_names_hazard(info) or _names_hazard(vendor)):
        return FaultClass.SAFETY
    if policy.is_recoverable(code):
        return FaultClass.RECOVERABLE
    if code.casefold() in _CANONICAL_16 or _is_201_name(code):
        return FaultClass.OTHER
    # A firmware's own code ("Error") outside the 1.6 enumeration: read as OtherError, the same
    # as when the OCPP adapter has already mapped it so.
    if policy.is_safety(OTHER_ERROR):
        return FaultClass.SAFETY
    return FaultClass.RECOVERABLE if policy.is_recoverable(OTHER_ERROR) else FaultClass.OTHER


def calls_for_unlock(error_code: str | None) -> bool:
    """Whether recovery should start with UnlockConnector: only for a lock failure, where it is
    the gentle fix (one connector, no reboot of the whole station) and frees a trapped cable.
    For 2.0.1, pass the code `error_code_for_event` gives."""
    code = _clean(error_code)
    return code is not None and code.casefold() == CONNECTOR_LOCK_FAILURE.casefold()


def _clean(text: str | None) -> str | None:
    stripped = text.strip() if text else ""
    return stripped or None


def _is_201_name(code: str) -> bool:
    return "." in code


def _is_catch_all(code: str) -> bool:
    """A code that says nothing specific, so the words that come with it are all there is. A
    specific code (HighTemperature, ReaderFailure) already says what it is, and an operator who
    lists it as recoverable means it, whatever the words."""
    folded = code.casefold()
    unknown = folded not in _CANONICAL_16 and not _is_201_name(code)
    return unknown or folded in _CATCH_ALL_CODES


def _names_hazard(text: str | None) -> bool:
    return text is not None and _HAZARD_WORDS.search(text) is not None


# --- OCPP 2.0.1 NotifyEvent --------------------------------------------------------------------

ALERTING = "Alerting"  # EventTriggerEnumType: a threshold monitor fired (vs Delta, Periodic)

# Boolean variables (the fault stands while the value is true) with their own meaning, by
# (component, variable) from the 2.0.1 Part 2 appendix. Not listed: any `Problem` is
# OtherError (1.6's catch-all: ChargingStation, EVSE, Connector, ...), any `Overload` is
# OverCurrentFailure, and any other `Tripped` or `Operated` keeps its 2.0.1 name.
_FLAG_EVENTS = {
    # The station's own computer: a restart is the cure, as for 1.6 InternalError.
    ("Controller", "Problem"): "InternalError",
    ("LocalController", "Problem"): "InternalError",
    ("TokenReader", "Problem"): "ReaderFailure",
    ("FiscalMetering", "Problem"): "PowerMeterFailure",
    ("ConnectorPlugRetentionLock", "Problem"): "ConnectorLockFailure",
    ("ConnectorPlugRetentionLock", "Tripped"): "ConnectorLockFailure",
    # The control pilot is how the station and the EV talk.
    ("CPPWMController", "Problem"): "EVCommunicationError",
    ("DataLink", "Problem"): "WeakSignal",
    ("PowerContactor", "Problem"): "PowerSwitchFailure",
    ("PowerContactor", "Tripped"): "PowerSwitchFailure",
    ("RCD", "Tripped"): "GroundFailure",
    ("RCD", "Operated"): "GroundFailure",
    # The RCD could not be re-closed: it stays tripped.
    ("RCDRecloser", "Problem"): "GroundFailure",
    ("GroundIsolationProtection", "Problem"): "GroundFailure",
    ("OverCurrentProtection", "Operated"): "OverCurrentFailure",
    ("OverCurrentProtectionRecloser", "Problem"): "OverCurrentFailure",
    # Cooling gone: the cable or the power electronics overheat next.
    ("AirCoolingSystem", "Problem"): "HighTemperature",
    ("LiquidCoolingSystem", "Problem"): "HighTemperature",
    # No 1.6 name says these: they keep their 2.0.1 names (safety by default).
    ("ElectricalFeed", "Problem"): "ElectricalFeed.Problem",
    ("UpstreamProtectionTrigger", "Problem"): "UpstreamProtectionTrigger.Problem",
}
# Measured variables: a fault only when a threshold monitor on them fires (trigger Alerting);
# periodic and delta reports of them are readings, not events. An internal temperature alarm
# is the upper threshold in practice, hence HighTemperature.
_THRESHOLD_EVENTS = {
    ("TemperatureSensor", "Temperature"): "HighTemperature",
    ("AcDcConverter", "Temperature"): "HighTemperature",
    ("LiquidCoolingSystem", "Temperature"): "HighTemperature",
    ("TiltSensor", "Angle"): "TiltSensor.Angle",
    ("ShockSensor", "Force"): "ShockSensor.Force",
}
_GENERIC_FLAGS = {"problem": OTHER_ERROR, "overload": "OverCurrentFailure"}
_KEEP_NAME_FLAGS = frozenset({"tripped", "operated"})
# 2.1 moves connector status to NotifyEvent on the Connector component (REFERENCE.md 2.5), as
# its AvailabilityState: Faulted is a fault without detail, any other state says there is
# none, like a 1.6 StatusNotification with NoError.
_AVAILABILITY_COMPONENTS = frozenset({"chargingstation", "evse", "connector"})
_FALSE_WORDS = frozenset({"false", "0", "no", "off"})


def _folded_keys(table: Mapping[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    return {(c.casefold(), v.casefold()): code for (c, v), code in table.items()}


_FLAG_EVENTS_FOLDED = _folded_keys(_FLAG_EVENTS)
_THRESHOLD_EVENTS_FOLDED = _folded_keys(_THRESHOLD_EVENTS)


def error_code_for_event(
    component: str,
    variable: str,
    value: str | None,
    *,
    trigger: str | None = None,
    cleared: bool = False,
) -> str | None:
    """The 1.6 error code a 2.0.1 NotifyEvent reports (or its own "Component.Variable" name);
    NoError when it says the problem is gone; None when it reports no fault at all."""
    component, variable = component.strip(), variable.strip()
    key = (component.casefold(), variable.casefold())
    if key[1] == "availabilitystate":
        if key[0] not in _AVAILABILITY_COMPONENTS:
            return None
        faulted = (value or "").strip().casefold() == "faulted"
        return OTHER_ERROR if faulted and not cleared else NO_ERROR
    if key in _THRESHOLD_EVENTS_FOLDED:
        if (trigger or "").strip().casefold() != ALERTING.casefold():
            return None
        return NO_ERROR if cleared else _THRESHOLD_EVENTS_FOLDED[key]
    code = _FLAG_EVENTS_FOLDED.get(key) or _GENERIC_FLAGS.get(key[1])
    if code is None and key[1] in _KEEP_NAME_FLAGS:
        code = f"{component}.{variable}"
    if code is None:
        return None
    return NO_ERROR if cleared or not _is_true(value) else code


def classify_event(
    component: str,
    variable: str,
    value: str | None,
    tech_code: str | None = None,
    *,
    trigger: str | None = None,
    cleared: bool = False,
    tech_info: str | None = None,
    policy: HealingPolicy = DEFAULT_POLICY,
) -> FaultClass | None:
    """What a 2.0.1 NotifyEvent calls for, by the same rules as the 1.6 code it maps to (the
    techCode in the place of the vendor code); None when the event reports no fault."""
    code = error_code_for_event(component, variable, value, trigger=trigger, cleared=cleared)
    if code is None:
        return None
    return classify_fault(code, tech_code, tech_info, policy=policy)


def _is_true(value: str | None) -> bool:
    # An event on a problem flag without a value is itself the report.
    return value is None or value.strip().casefold() not in _FALSE_WORDS


# --- Recovery ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecoveryAttempt:
    """A remote step sent to the station to clear a fault."""

    at: datetime
    action: RecoveryAction


@dataclass(frozen=True, slots=True)
class RecoveryDecision:
    """What to do about a fault now."""

    action: RecoveryAction | None  # None: send nothing
    not_before: datetime | None  # when to send `action` (never before the decision's now)
    escalate: bool  # alert people
    reason: str  # plain words, shown on the alert
    severity: AlertSeverity | None = None  # the alert's severity when escalating


def attempts_in_window(
    attempts: Sequence[RecoveryAttempt], now: datetime, policy: HealingPolicy
) -> list[RecoveryAttempt]:
    """The attempts that still count, oldest first: those after `now - attempt_window`."""
    since = now - policy.attempt_window
    return sorted((a for a in attempts if a.at > since), key=lambda attempt: attempt.at)


def decide_recovery(
    fault: FaultClass,
    attempts: Sequence[RecoveryAttempt],
    now: datetime,
    session_running: bool,
    policy: HealingPolicy,
    *,
    unlock_first: bool = False,
    fault_seen_at: datetime | None = None,
) -> RecoveryDecision:
    """The next step for a station's fault.

    Safety faults: nothing sent, a critical alert. Alert-only faults, or recovery turned off: a
    warning. `max_attempts` within the window already made: stop and warn; a fault that lasts
    past the window gets tried again, still at most `max_attempts` per window. A session
    running anywhere on the station: wait, a reset would end it. Otherwise the next rung of
    the ladder (UnlockConnector when `unlock_first`, see `calls_for_unlock`, then a soft reset,
    then hard resets), after the back-off; `fault_seen_at` anchors the first back-off.
    """
    if fault == FaultClass.NONE:
        return RecoveryDecision(None, None, escalate=False, reason="no fault is reported")
    if fault == FaultClass.SAFETY:
        return _escalation(
            AlertSeverity.CRITICAL,
            "a safety fault: the station is never reset remotely; send a technician",
        )
    if fault == FaultClass.OTHER:
        return _escalation(
            AlertSeverity.WARNING, "a remote reset does not clear this fault; it needs a person"
        )
    if not policy.auto_recovery:
        return _escalation(
            AlertSeverity.WARNING,
            "automatic recovery is turned off for this organization; it needs a person",
        )
    recent = attempts_in_window(attempts, now, policy)
    if len(recent) >= policy.max_attempts:
        return _escalation(
            AlertSeverity.WARNING,
            f"{len(recent)} remote attempts in the last {_span(policy.attempt_window)} did not "
            "clear the fault; send a technician",
        )
    if session_running:
        return RecoveryDecision(
            None,
            None,
            escalate=False,
            reason="a charging session is running on the station; recovery waits for it to end",
        )
    action = _next_action(len(recent), unlock_first)
    not_before = _not_before(recent, now, fault_seen_at, policy)
    return RecoveryDecision(
        action,
        not_before,
        escalate=False,
        reason=_plan(action, len(recent), now, not_before, policy),
    )


def _escalation(severity: AlertSeverity, reason: str) -> RecoveryDecision:
    return RecoveryDecision(None, None, escalate=True, reason=reason, severity=severity)


def _next_action(made: int, unlock_first: bool) -> RecoveryAction:
    """The ladder climbs one rung per attempt in the window and stays on the last."""
    ladder: tuple[RecoveryAction, ...] = (RecoveryAction.SOFT_RESET, RecoveryAction.HARD_RESET)
    if unlock_first:
        ladder = (RecoveryAction.UNLOCK, *ladder)
    return ladder[min(made, len(ladder) - 1)]


def _not_before(
    recent: list[RecoveryAttempt],
    now: datetime,
    fault_seen_at: datetime | None,
    policy: HealingPolicy,
) -> datetime:
    wait = policy.backoff[min(len(recent), len(policy.backoff) - 1)]
    since = recent[-1].at if recent else (fault_seen_at or now)
    return max(now, since + wait)


_ACTION_WORDS = {
    RecoveryAction.UNLOCK: "unlock the connector",
    RecoveryAction.SOFT_RESET: "soft reset",
    RecoveryAction.HARD_RESET: "hard reset",
}


def _plan(
    action: RecoveryAction, made: int, now: datetime, at: datetime, policy: HealingPolicy
) -> str:
    when = "now" if at <= now else f"in {_span(at - now)}"
    plan = (
        f"{_ACTION_WORDS[action]} {when} (attempt {made + 1} of {policy.max_attempts} "
        f"within {_span(policy.attempt_window)})"
    )
    if made:
        plan += f"; {made} earlier attempt{'s' if made > 1 else ''} did not clear the fault"
    return plan


def _span(duration: timedelta) -> str:
    seconds = round(duration.total_seconds())
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


# --- Ghost and stuck sessions ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MeterObservation:
    """One meter reading of a session: the energy register and the power, when reported."""

    at: datetime
    energy_wh: int | None = None
    power_w: int | None = None


@dataclass(frozen=True, slots=True)
class GhostVerdict:
    """Whether an open session is a ghost, and why."""

    is_ghost: bool
    reason: str
    # False: the readings do not cover the idle window, so nothing can be said from them; a
    # session without meter values is judged by `is_stuck_session` instead.
    enough_readings: bool = True


# The EV paused or is full (SuspendedEV), or the station or smart charging paused it
# (SuspendedEVSE): a session can rightly draw nothing for hours. The same names in 1.6
# ChargePointStatus and 2.0.1 chargingState.
_LEGITIMATE_PAUSES = frozenset({"suspendedev", "suspendedevse"})
# Statuses that say no charge is going on at all (1.6 status, 2.0.1 connector status or
# chargingState): with a still meter, the station has most likely ended the session already.
_NOT_IN_USE = frozenset({"available", "finishing", "faulted", "unavailable", "reserved", "idle"})


def is_ghost_session(
    points: Sequence[MeterObservation],
    connector_status: str | None,
    now: datetime,
    policy: HealingPolicy,
) -> GhostVerdict:
    """Whether an open session is a ghost: over the whole idle window (`now - ghost_idle` to
    now) every power reading is at most `ghost_max_power_w` (or missing) and the energy
    register rose by at most `ghost_max_energy_wh`, while the connector does not report a
    legitimate pause. Charging at zero power, or Available, Finishing, Faulted or Unavailable
    with a still meter, is a ghost; a slow but steady rise (trickle charging) is not.

    `points` are the session's recent readings (any order); they must reach back to the start
    of the window: the last reading at or before it is the energy baseline.
    """
    status = _clean(connector_status)
    if status is not None and status.casefold() in _LEGITIMATE_PAUSES:
        return GhostVerdict(False, f"the connector reports {status}: a legitimate pause")
    idle = _span(policy.ghost_idle)
    start = now - policy.ghost_idle
    ordered = sorted((p for p in points if p.at <= now), key=lambda point: point.at)
    inside = [p for p in ordered if p.at > start]
    if not inside:
        return _undecided(f"no meter value in the last {idle}")
    drawing = [p.power_w for p in inside if p.power_w is not None]
    if drawing and max(drawing) > policy.ghost_max_power_w:
        return GhostVerdict(
            False,
            f"the power reached {max(drawing)} W in the last {idle} "
            f"(more than {policy.ghost_max_power_w} W): the EV is charging",
        )
    energies = _energy_since(ordered, start)
    if energies is None:
        return _undecided(f"the energy readings do not cover the last {idle}")
    # The register can fall back (a reboot mid-session restarts a per-transaction register):
    # summing only the rises counts what really flowed.
    rise = sum(max(0, later - earlier) for earlier, later in pairwise(energies))
    if rise > policy.ghost_max_energy_wh:
        return GhostVerdict(
            False,
            f"the energy register rose {rise} Wh in the last {idle} "
            f"(more than {policy.ghost_max_energy_wh} Wh): the EV is charging, if slowly",
        )
    return GhostVerdict(True, _ghost_reason(status, rise, idle, policy))


def _undecided(why: str) -> GhostVerdict:
    return GhostVerdict(
        False, f"{why}: cannot tell; see the stuck-session check", enough_readings=False
    )


def _energy_since(ordered: list[MeterObservation], start: datetime) -> list[int] | None:
    """The energy readings from the last one at or before `start` (the baseline) to the latest;
    None without a baseline or without a reading after it."""
    known = [(p.at, p.energy_wh) for p in ordered if p.energy_wh is not None]
    before = [energy for at, energy in known if at <= start]
    after = [energy for at, energy in known if at > start]
    if not before or not after:
        return None
    return [before[-1], *after]


def _ghost_reason(status: str | None, rise: int, idle: str, policy: HealingPolicy) -> str:
    still = (
        f"no power above {policy.ghost_max_power_w} W and {rise} Wh on the energy register "
        f"in the last {idle}"
    )
    if status is not None and status.casefold() in _NOT_IN_USE:
        return (
            f"the connector reports {status} while the session is open, with {still}: the "
            "station has most likely ended it"
        )
    said = f"the connector reports {status}" if status is not None else "no connector status"
    return f"{said}, but {still}: nothing is flowing"


def is_stuck_session(
    last_meter_at: datetime | None, started_at: datetime, now: datetime, policy: HealingPolicy
) -> bool:
    """Whether an open session has sent no meter value for `stuck_after` (counted from its
    start when it never sent one): the station may have lost it, or its meter, or the link."""
    last_sign = started_at if last_meter_at is None else max(started_at, last_meter_at)
    return now - last_sign >= policy.stuck_after


def offline_alert_due(
    disconnected_since: datetime | None, now: datetime, policy: HealingPolicy
) -> bool:
    """Whether a station disconnected since then has been away long enough for an alert."""
    return disconnected_since is not None and now - disconnected_since >= policy.offline_alert_after
