"""The self-healing rules: fault classes (1.6 codes and 2.0.1 events), policy settings, the
recovery ladder and its limits, ghost and stuck sessions."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.healing.rules import (
    DEFAULT_POLICY,
    DEFAULT_RECOVERABLE_CODES,
    DEFAULT_SAFETY_CODES,
    OCPP16_ERROR_CODES,
    AlertSeverity,
    FaultClass,
    HealingPolicy,
    MeterObservation,
    RecoveryAction,
    RecoveryAttempt,
    attempts_in_window,
    calls_for_unlock,
    classify_event,
    classify_fault,
    decide_recovery,
    error_code_for_event,
    is_ghost_session,
    is_stuck_session,
    offline_alert_due,
)

NOW = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
SOFT = RecoveryAction.SOFT_RESET
HARD = RecoveryAction.HARD_RESET
UNLOCK = RecoveryAction.UNLOCK


def minutes_ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def attempt(minutes: float, action: RecoveryAction = SOFT) -> RecoveryAttempt:
    return RecoveryAttempt(minutes_ago(minutes), action)


# --- 1.6 error codes ---------------------------------------------------------------------------

EXPECTED_16 = {
    "NoError": FaultClass.NONE,
    "InternalError": FaultClass.RECOVERABLE,
    "OtherError": FaultClass.RECOVERABLE,
    "ReaderFailure": FaultClass.RECOVERABLE,
    "ConnectorLockFailure": FaultClass.RECOVERABLE,
    "PowerMeterFailure": FaultClass.RECOVERABLE,
    "GroundFailure": FaultClass.SAFETY,
    "OverCurrentFailure": FaultClass.SAFETY,
    "OverVoltage": FaultClass.SAFETY,
    "UnderVoltage": FaultClass.SAFETY,
    "HighTemperature": FaultClass.SAFETY,
    "PowerSwitchFailure": FaultClass.SAFETY,
    "EVCommunicationError": FaultClass.OTHER,
    "WeakSignal": FaultClass.OTHER,
    "LocalListConflict": FaultClass.OTHER,
    "ResetFailure": FaultClass.OTHER,
}


def test_every_16_code_has_an_expected_class():
    assert set(EXPECTED_16) == OCPP16_ERROR_CODES


@pytest.mark.parametrize(("code", "expected"), EXPECTED_16.items())
def test_each_16_code_is_classified(code: str, expected: FaultClass):
    assert classify_fault(code) == expected


@pytest.mark.parametrize("code", [None, "", "  ", "noerror", "NoError"])
def test_no_code_is_no_fault(code: str | None):
    assert classify_fault(code, "E42", "something") == FaultClass.NONE


def test_codes_compare_without_case_or_spaces():
    assert classify_fault("groundFailure") == FaultClass.SAFETY
    assert classify_fault(" internalerror ") == FaultClass.RECOVERABLE


def test_a_code_outside_the_enumeration_counts_as_other_error():
    # lbbrhzn/ocpp#1248: a Legrand station sends errorCode "Error".
    assert classify_fault("Error") == FaultClass.RECOVERABLE
    policy = HealingPolicy.from_settings({"alert_only_codes": ["OtherError"]})
    assert classify_fault("Error", policy=policy) == FaultClass.OTHER
    policy = HealingPolicy.from_settings({"safety_codes": ["OtherError"]})
    assert classify_fault("Error", policy=policy) == FaultClass.SAFETY


def test_an_unknown_201_name_is_alert_only():
    assert classify_fault("Heater.Tripped") == FaultClass.OTHER


@pytest.mark.parametrize(
    ("code", "vendor", "info"),
    [
        ("OtherError", None, "RCD tripped"),
        ("OtherError", None, "Residual current detected"),
        ("InternalError", "OVERTEMP_3", None),
        ("Error", None, "earth fault on L2"),
        ("OtherError", None, "Emergency stop pressed"),
    ],
)
def test_a_catch_all_code_naming_a_hazard_is_safety(code: str, vendor: str | None, info: str):
    assert classify_fault(code, vendor, info) == FaultClass.SAFETY


def test_hazard_words_need_to_be_whole_words():
    assert classify_fault("OtherError", None, "firmware update pending") == FaultClass.RECOVERABLE
    assert classify_fault("OtherError", None, "cardreader timeout") == FaultClass.RECOVERABLE


def test_a_specific_code_is_not_reread_from_its_words():
    # An operator who made HighTemperature recoverable meant it, whatever the info says.
    policy = HealingPolicy.from_settings({"recoverable_codes": ["HighTemperature"]})
    assert classify_fault("HighTemperature", None, "over temperature", policy=policy) == (
        FaultClass.RECOVERABLE
    )
    assert classify_fault("ReaderFailure", None, "RCD self-test ok") == FaultClass.RECOVERABLE


def test_a_code_moved_from_recoverable_to_safety_by_settings():
    policy = HealingPolicy.from_settings({"safety_codes": ["PowerMeterFailure"]})
    assert classify_fault("PowerMeterFailure", policy=policy) == FaultClass.SAFETY
    assert not policy.is_recoverable("PowerMeterFailure")
    # The other defaults stay where they were.
    assert classify_fault("GroundFailure", policy=policy) == FaultClass.SAFETY
    assert classify_fault("InternalError", policy=policy) == FaultClass.RECOVERABLE


def test_a_vendor_code_listed_as_safety_wins_over_a_recoverable_code():
    policy = HealingPolicy.from_settings({"safety_codes": ["E42"]})
    assert classify_fault("InternalError", "e42", policy=policy) == FaultClass.SAFETY
    assert classify_fault("InternalError", "E43", policy=policy) == FaultClass.RECOVERABLE


def test_a_vendor_code_listed_as_recoverable_is_more_specific_than_the_code():
    policy = HealingPolicy.from_settings({"recoverable_codes": ["0x1A"]})
    assert classify_fault("EVCommunicationError", "0x1A", policy=policy) == FaultClass.RECOVERABLE
    # ... but never over a code listed as safety.
    assert classify_fault("GroundFailure", "0x1A", policy=policy) == FaultClass.SAFETY


def test_a_code_in_both_lists_of_a_hand_made_policy_is_safety():
    policy = HealingPolicy(recoverable_codes=frozenset({"GroundFailure"}))
    assert policy.is_safety("GroundFailure")
    assert not policy.is_recoverable("GroundFailure")
    assert classify_fault("GroundFailure", policy=policy) == FaultClass.SAFETY


def test_unlock_comes_first_only_for_a_lock_failure():
    assert calls_for_unlock("ConnectorLockFailure")
    assert calls_for_unlock("connectorlockfailure")
    assert not calls_for_unlock("InternalError")
    assert not calls_for_unlock(None)


# --- 2.0.1 NotifyEvent -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("component", "variable", "code", "fault"),
    [
        ("Connector", "Problem", "OtherError", FaultClass.RECOVERABLE),
        ("EVSE", "Problem", "OtherError", FaultClass.RECOVERABLE),
        ("ChargingStation", "Problem", "OtherError", FaultClass.RECOVERABLE),
        ("Controller", "Problem", "InternalError", FaultClass.RECOVERABLE),
        ("TokenReader", "Problem", "ReaderFailure", FaultClass.RECOVERABLE),
        ("FiscalMetering", "Problem", "PowerMeterFailure", FaultClass.RECOVERABLE),
        ("ConnectorPlugRetentionLock", "Problem", "ConnectorLockFailure", FaultClass.RECOVERABLE),
        ("CPPWMController", "Problem", "EVCommunicationError", FaultClass.OTHER),
        ("DataLink", "Problem", "WeakSignal", FaultClass.OTHER),
        ("RCD", "Tripped", "GroundFailure", FaultClass.SAFETY),
        ("GroundIsolationProtection", "Problem", "GroundFailure", FaultClass.SAFETY),
        ("OverCurrentProtection", "Operated", "OverCurrentFailure", FaultClass.SAFETY),
        ("EVSE", "Overload", "OverCurrentFailure", FaultClass.SAFETY),
        ("PowerContactor", "Tripped", "PowerSwitchFailure", FaultClass.SAFETY),
        ("LiquidCoolingSystem", "Problem", "HighTemperature", FaultClass.SAFETY),
        ("ElectricalFeed", "Problem", "ElectricalFeed.Problem", FaultClass.SAFETY),
        ("EmergencyStopSensor", "Tripped", "EmergencyStopSensor.Tripped", FaultClass.SAFETY),
        ("EVSE", "Tripped", "EVSE.Tripped", FaultClass.SAFETY),
        ("CaseAccessSensor", "Tripped", "CaseAccessSensor.Tripped", FaultClass.OTHER),
    ],
)
def test_problem_flags_map_onto_16_codes(
    component: str, variable: str, code: str, fault: FaultClass
):
    assert error_code_for_event(component, variable, "true") == code
    assert classify_event(component, variable, "true") == fault


@pytest.mark.parametrize(
    ("component", "variable", "code"),
    [
        ("TemperatureSensor", "Temperature", "HighTemperature"),
        ("AcDcConverter", "Temperature", "HighTemperature"),
        ("TiltSensor", "Angle", "TiltSensor.Angle"),
        ("ShockSensor", "Force", "ShockSensor.Force"),
    ],
)
def test_a_threshold_monitor_firing_is_a_safety_fault(component: str, variable: str, code: str):
    assert error_code_for_event(component, variable, "91.5", trigger="Alerting") == code
    assert classify_event(component, variable, "91.5", trigger="Alerting") == FaultClass.SAFETY
    # The same variable reported periodically or on a change is a reading, not an event.
    assert classify_event(component, variable, "91.5", trigger="Periodic") is None
    assert classify_event(component, variable, "91.5") is None
    cleared = classify_event(component, variable, "40", trigger="Alerting", cleared=True)
    assert cleared == FaultClass.NONE


@pytest.mark.parametrize("value", ["false", "FALSE", "0"])
def test_a_problem_flag_back_to_false_is_no_fault(value: str):
    assert error_code_for_event("Connector", "Problem", value) == "NoError"
    assert classify_event("RCD", "Tripped", value) == FaultClass.NONE


def test_a_cleared_event_is_no_fault():
    assert classify_event("RCD", "Tripped", "true", cleared=True) == FaultClass.NONE


def test_a_problem_event_without_a_value_is_the_report_itself():
    assert classify_event("Controller", "Problem", None) == FaultClass.RECOVERABLE


def test_event_names_compare_without_case():
    assert classify_event("rcd", "tripped", "True") == FaultClass.SAFETY
    assert error_code_for_event(" connector ", "PROBLEM", "true") == "OtherError"


def test_availability_state_is_the_connector_status():
    assert classify_event("Connector", "AvailabilityState", "Faulted") == FaultClass.RECOVERABLE
    assert classify_event("Connector", "AvailabilityState", "Occupied") == FaultClass.NONE
    assert classify_event("Heater", "AvailabilityState", "Faulted") is None


@pytest.mark.parametrize(
    ("component", "variable", "value"),
    [
        ("EVSE", "Power", "7400"),
        ("Controller", "FirmwareVersion", "1.2.3"),
        ("OCPPCommCtrlr", "HeartbeatInterval", "300"),
        ("TemperatureSensor", "Active", "true"),
    ],
)
def test_other_variables_are_no_fault_events(component: str, variable: str, value: str):
    assert error_code_for_event(component, variable, value) is None
    assert classify_event(component, variable, value) is None


def test_the_tech_code_plays_the_vendor_code():
    policy = HealingPolicy.from_settings({"safety_codes": ["ARC-7"]})
    assert classify_event("Connector", "Problem", "true", "ARC-7", policy=policy) == (
        FaultClass.SAFETY
    )
    assert classify_event("Connector", "Problem", "true", tech_info="ground fault") == (
        FaultClass.SAFETY
    )


# --- Policy settings ---------------------------------------------------------------------------


def test_the_defaults():
    policy = HealingPolicy()
    assert policy.auto_recovery
    assert policy.max_attempts == 3
    assert policy.attempt_window == timedelta(hours=1)
    assert policy.backoff == (timedelta(0), 2 * MINUTE, 10 * MINUTE)
    assert policy.ghost_idle == 15 * MINUTE
    assert policy.ghost_max_power_w == 100
    assert policy.ghost_max_energy_wh == 10
    assert policy.stuck_after == 30 * MINUTE
    assert policy.offline_alert_after == 5 * MINUTE
    assert policy.recoverable_codes == DEFAULT_RECOVERABLE_CODES
    assert policy.safety_codes == DEFAULT_SAFETY_CODES
    assert not DEFAULT_RECOVERABLE_CODES & DEFAULT_SAFETY_CODES


@pytest.mark.parametrize("settings", [None, {}])
def test_no_overrides_give_the_defaults(settings: dict[str, Any] | None):
    assert HealingPolicy.from_settings(settings) == DEFAULT_POLICY


def test_every_setting_can_be_overridden():
    policy = HealingPolicy.from_settings(
        {
            "auto_recovery": False,
            "max_attempts": 5,
            "attempt_window_s": 7200,
            "backoff_s": [30, 90.5],
            "ghost_idle_s": 1200,
            "ghost_max_power_w": 50,
            "ghost_max_energy_wh": 20,
            "stuck_after_s": 3600,
            "offline_alert_after_s": 0,
        }
    )
    assert policy == HealingPolicy(
        auto_recovery=False,
        max_attempts=5,
        attempt_window=timedelta(hours=2),
        backoff=(timedelta(seconds=30), timedelta(seconds=90.5)),
        ghost_idle=20 * MINUTE,
        ghost_max_power_w=50,
        ghost_max_energy_wh=20,
        stuck_after=timedelta(hours=1),
        offline_alert_after=timedelta(0),
    )


def test_listed_codes_move_and_the_rest_keep_their_class():
    policy = HealingPolicy.from_settings(
        {
            "recoverable_codes": ["highTemperature", "E17"],
            "alert_only_codes": ["PowerMeterFailure"],
        }
    )
    # 1.6 names are stored in their own spelling; vendor codes as given.
    assert policy.recoverable_codes == (DEFAULT_RECOVERABLE_CODES - {"PowerMeterFailure"}) | {
        "HighTemperature",
        "E17",
    }
    assert policy.safety_codes == DEFAULT_SAFETY_CODES - {"HighTemperature"}
    assert classify_fault("PowerMeterFailure", policy=policy) == FaultClass.OTHER
    assert classify_fault("HighTemperature", policy=policy) == FaultClass.RECOVERABLE


@pytest.mark.parametrize(
    ("settings", "names"),
    [
        (["max_attempts"], "healing settings must be a JSON object"),
        ({"max_atempts": 3}, "'max_atempts'"),
        ({"auto_recovery": "yes"}, "'auto_recovery'"),
        ({"auto_recovery": 1}, "'auto_recovery'"),
        ({"max_attempts": 0}, "'max_attempts'"),
        ({"max_attempts": 11}, "'max_attempts'"),
        ({"max_attempts": True}, "'max_attempts'"),
        ({"max_attempts": 2.5}, "'max_attempts'"),
        ({"max_attempts": "3"}, "'max_attempts'"),
        ({"attempt_window_s": 30}, "'attempt_window_s'"),
        ({"attempt_window_s": float("nan")}, "'attempt_window_s'"),
        ({"attempt_window_s": float("inf")}, "'attempt_window_s'"),
        ({"attempt_window_s": None}, "'attempt_window_s'"),
        ({"ghost_idle_s": -60}, "'ghost_idle_s'"),
        ({"stuck_after_s": "1800"}, "'stuck_after_s'"),
        ({"offline_alert_after_s": 86_401}, "'offline_alert_after_s'"),
        ({"ghost_max_power_w": -1}, "'ghost_max_power_w'"),
        ({"ghost_max_energy_wh": 10.5}, "'ghost_max_energy_wh'"),
        ({"backoff_s": []}, "'backoff_s'"),
        ({"backoff_s": 60}, "'backoff_s'"),
        ({"backoff_s": [0, -1]}, "'backoff_s'"),
        ({"backoff_s": [0, "60"]}, "'backoff_s'"),
        ({"backoff_s": [60] * 11}, "'backoff_s'"),
        ({"safety_codes": "GroundFailure"}, "'safety_codes'"),
        ({"safety_codes": [""]}, "'safety_codes'"),
        ({"recoverable_codes": [3]}, "'recoverable_codes'"),
        ({"recoverable_codes": ["NoError"]}, "'recoverable_codes'"),
        ({"alert_only_codes": None}, "'alert_only_codes'"),
        (
            {"recoverable_codes": ["E1", "GroundFailure"], "safety_codes": ["groundfailure"]},
            "'recoverable_codes' and 'safety_codes'",
        ),
    ],
)
def test_bad_settings_are_refused_naming_the_key(settings: Any, names: str):
    with pytest.raises(ValueError) as refused:
        HealingPolicy.from_settings(settings)
    assert names in str(refused.value)


# --- Recovery decisions ------------------------------------------------------------------------


def test_no_fault_needs_nothing():
    decision = decide_recovery(FaultClass.NONE, [], NOW, False, DEFAULT_POLICY)
    assert decision.action is None
    assert not decision.escalate


def test_a_safety_fault_is_never_reset_and_alerts_at_once_as_critical():
    decision = decide_recovery(FaultClass.SAFETY, [], NOW, False, DEFAULT_POLICY)
    assert decision.action is None
    assert decision.not_before is None
    assert decision.escalate
    assert decision.severity == AlertSeverity.CRITICAL
    assert "never reset" in decision.reason


def test_an_alert_only_fault_alerts_without_acting():
    decision = decide_recovery(FaultClass.OTHER, [], NOW, False, DEFAULT_POLICY)
    assert (decision.action, decision.escalate, decision.severity) == (
        None,
        True,
        AlertSeverity.WARNING,
    )


def test_recovery_turned_off_only_alerts():
    policy = HealingPolicy(auto_recovery=False)
    decision = decide_recovery(FaultClass.RECOVERABLE, [], NOW, False, policy)
    assert (decision.action, decision.escalate, decision.severity) == (
        None,
        True,
        AlertSeverity.WARNING,
    )
    assert "turned off" in decision.reason


def test_the_first_step_is_a_soft_reset_now():
    decision = decide_recovery(FaultClass.RECOVERABLE, [], NOW, False, DEFAULT_POLICY)
    assert (decision.action, decision.not_before, decision.escalate) == (SOFT, NOW, False)
    assert decision.reason == "soft reset now (attempt 1 of 3 within 1 h)"


def test_then_a_hard_reset_two_minutes_after_the_soft_one():
    attempts = [attempt(0.5, SOFT)]
    decision = decide_recovery(FaultClass.RECOVERABLE, attempts, NOW, False, DEFAULT_POLICY)
    assert decision.action == HARD
    assert decision.not_before == minutes_ago(0.5) + 2 * MINUTE
    assert decision.reason == (
        "hard reset in 90 s (attempt 2 of 3 within 1 h); 1 earlier attempt did not clear the fault"
    )


def test_then_another_hard_reset_ten_minutes_after_the_last():
    attempts = [attempt(3, HARD), attempt(5, SOFT)]  # any order
    decision = decide_recovery(FaultClass.RECOVERABLE, attempts, NOW, False, DEFAULT_POLICY)
    assert decision.action == HARD
    assert decision.not_before == minutes_ago(3) + 10 * MINUTE


def test_a_back_off_already_over_means_now():
    attempts = [attempt(30, SOFT)]
    decision = decide_recovery(FaultClass.RECOVERABLE, attempts, NOW, False, DEFAULT_POLICY)
    assert (decision.action, decision.not_before) == (HARD, NOW)


def test_past_the_end_of_the_back_off_list_the_last_wait_repeats():
    policy = HealingPolicy(max_attempts=5, backoff=(timedelta(0), MINUTE))
    attempts = [attempt(4, SOFT), attempt(3, HARD), attempt(2, HARD), attempt(0, HARD)]
    decision = decide_recovery(FaultClass.RECOVERABLE, attempts, NOW, False, policy)
    assert (decision.action, decision.not_before) == (HARD, NOW + MINUTE)


def test_the_first_back_off_counts_from_when_the_fault_was_seen():
    policy = HealingPolicy(backoff=(5 * MINUTE, 2 * MINUTE))
    decision = decide_recovery(
        FaultClass.RECOVERABLE, [], NOW, False, policy, fault_seen_at=minutes_ago(3)
    )
    assert (decision.action, decision.not_before) == (SOFT, NOW + 2 * MINUTE)
    assert decision.reason.startswith("soft reset in 2 min")
    # Without it, from now.
    decision = decide_recovery(FaultClass.RECOVERABLE, [], NOW, False, policy)
    assert decision.not_before == NOW + 5 * MINUTE


def test_attempts_outside_the_window_do_not_count():
    attempts = [attempt(61, HARD), attempt(65, HARD), attempt(70, SOFT)]
    decision = decide_recovery(FaultClass.RECOVERABLE, attempts, NOW, False, DEFAULT_POLICY)
    assert (decision.action, decision.not_before, decision.escalate) == (SOFT, NOW, False)


def test_an_attempt_exactly_one_window_ago_has_left_it():
    attempts = [attempt(60), attempt(30), attempt(10)]
    assert attempts_in_window(attempts, NOW, DEFAULT_POLICY) == [attempt(30), attempt(10)]
    decision = decide_recovery(FaultClass.RECOVERABLE, attempts, NOW, False, DEFAULT_POLICY)
    assert decision.action == HARD


def test_max_attempts_in_the_window_stop_and_escalate():
    attempts = [attempt(59, SOFT), attempt(50, HARD), attempt(1, HARD)]
    decision = decide_recovery(FaultClass.RECOVERABLE, attempts, NOW, False, DEFAULT_POLICY)
    assert decision.action is None
    assert decision.escalate
    assert decision.severity == AlertSeverity.WARNING
    assert decision.reason == (
        "3 remote attempts in the last 1 h did not clear the fault; send a technician"
    )


def test_a_running_session_blocks_a_reset_without_alerting():
    decision = decide_recovery(FaultClass.RECOVERABLE, [attempt(5)], NOW, True, DEFAULT_POLICY)
    assert (decision.action, decision.not_before, decision.escalate) == (None, None, False)
    assert "session is running" in decision.reason


def test_exhausted_attempts_escalate_even_while_a_session_runs():
    attempts = [attempt(30), attempt(20), attempt(10)]
    decision = decide_recovery(FaultClass.RECOVERABLE, attempts, NOW, True, DEFAULT_POLICY)
    assert decision.escalate


def test_a_lock_failure_tries_unlock_then_soft_then_hard():
    def step(*made: RecoveryAttempt) -> RecoveryAction | None:
        policy = HealingPolicy(max_attempts=4)
        decision = decide_recovery(
            FaultClass.RECOVERABLE, list(made), NOW, False, policy, unlock_first=True
        )
        return decision.action

    assert step() == UNLOCK
    assert step(attempt(20, UNLOCK)) == SOFT
    assert step(attempt(20, UNLOCK), attempt(15, SOFT)) == HARD
    assert step(attempt(20, UNLOCK), attempt(15, SOFT), attempt(12, HARD)) == HARD


def test_the_unlock_reason_is_plain():
    decision = decide_recovery(
        FaultClass.RECOVERABLE, [], NOW, False, DEFAULT_POLICY, unlock_first=True
    )
    assert decision.reason == "unlock the connector now (attempt 1 of 3 within 1 h)"


# Properties over any history.

times = st.integers(min_value=-180, max_value=10).map(lambda m: NOW + timedelta(minutes=m))
histories = st.lists(
    st.builds(RecoveryAttempt, times, st.sampled_from(list(RecoveryAction))), max_size=8
)
policies = st.builds(
    HealingPolicy,
    auto_recovery=st.booleans(),
    max_attempts=st.integers(1, 5),
    attempt_window=st.integers(5, 120).map(lambda m: timedelta(minutes=m)),
    backoff=st.lists(
        st.integers(0, 30).map(lambda m: timedelta(minutes=m)), min_size=1, max_size=4
    ).map(tuple),
)


@given(histories, st.booleans(), policies, st.booleans())
def test_a_safety_fault_never_gets_an_action(
    history: list[RecoveryAttempt], running: bool, policy: HealingPolicy, unlock: bool
):
    decision = decide_recovery(
        FaultClass.SAFETY, history, NOW, running, policy, unlock_first=unlock
    )
    assert decision.action is None
    assert decision.escalate
    assert decision.severity == AlertSeverity.CRITICAL


@given(histories, st.booleans(), policies)
def test_an_action_is_never_early_nor_during_a_session(
    history: list[RecoveryAttempt], running: bool, policy: HealingPolicy
):
    decision = decide_recovery(FaultClass.RECOVERABLE, history, NOW, running, policy)
    if decision.action is None:
        return
    assert not running
    assert policy.auto_recovery
    assert decision.not_before is not None
    assert decision.not_before >= NOW
    recent = attempts_in_window(history, NOW, policy)
    assert len(recent) < policy.max_attempts
    if recent:
        wait = policy.backoff[min(len(recent), len(policy.backoff) - 1)]
        assert decision.not_before >= recent[-1].at + wait


@given(
    policies,
    st.lists(st.tuples(st.integers(1, 40), st.booleans()), min_size=1, max_size=40),
)
def test_never_more_than_max_attempts_in_any_window(
    policy: HealingPolicy, steps: list[tuple[int, bool]]
):
    """A station that stays faulted, asked about every few minutes, sometimes with a session
    running: every action done when due never puts more than max_attempts in any window."""
    now = NOW
    done: list[RecoveryAttempt] = []
    for gap_minutes, running in steps:
        now += timedelta(minutes=gap_minutes)
        decision = decide_recovery(FaultClass.RECOVERABLE, done, now, running, policy)
        if decision.action is not None and decision.not_before == now:
            done.append(RecoveryAttempt(now, decision.action))
    for first in done:
        window_end = first.at + policy.attempt_window
        inside = [a for a in done if first.at <= a.at < window_end]
        assert len(inside) <= policy.max_attempts


# --- Ghost sessions ----------------------------------------------------------------------------


def readings(
    minutes: int, energy_wh: int = 5_000, rise_per_min: int = 0, power_w: int | None = 0
) -> list[MeterObservation]:
    """One reading a minute for the last `minutes`, up to now."""
    return [
        MeterObservation(minutes_ago(m), energy_wh + rise_per_min * (minutes - m), power_w)
        for m in range(minutes, -1, -1)
    ]


def ghost(points: list[MeterObservation], status: str | None = "Charging") -> bool:
    return is_ghost_session(points, status, NOW, DEFAULT_POLICY).is_ghost


def test_charging_at_zero_power_for_the_idle_window_is_a_ghost():
    verdict = is_ghost_session(readings(20), "Charging", NOW, DEFAULT_POLICY)
    assert verdict.is_ghost
    assert verdict.enough_readings
    assert "Charging" in verdict.reason
    assert "15 min" in verdict.reason


@pytest.mark.parametrize("status", ["SuspendedEV", "SuspendedEVSE", "suspendedev"])
def test_a_legitimate_pause_is_not_a_ghost(status: str):
    verdict = is_ghost_session(readings(60), status, NOW, DEFAULT_POLICY)
    assert not verdict.is_ghost
    assert "legitimate pause" in verdict.reason


@pytest.mark.parametrize("status", ["Available", "Finishing", "Faulted", "Unavailable"])
def test_a_connector_not_in_use_with_a_still_meter_is_a_ghost(status: str):
    verdict = is_ghost_session(readings(20), status, NOW, DEFAULT_POLICY)
    assert verdict.is_ghost
    assert f"reports {status} while the session is open" in verdict.reason


def test_trickle_charging_is_not_a_ghost():
    # 60 W: under the power threshold, but the register rises 1 Wh a minute, 15 Wh in 15 min.
    verdict = is_ghost_session(
        readings(20, rise_per_min=1, power_w=60), "Charging", NOW, DEFAULT_POLICY
    )
    assert not verdict.is_ghost
    assert "rose 15 Wh" in verdict.reason


def test_a_rise_up_to_the_threshold_still_counts_as_still():
    points = readings(20)
    points[-1] = MeterObservation(NOW, 5_010, 0)
    assert ghost(points)
    points[-1] = MeterObservation(NOW, 5_011, 0)
    assert not ghost(points)


def test_power_above_the_threshold_is_charging_whatever_a_coarse_register_says():
    points = readings(20)
    points[-3] = MeterObservation(minutes_ago(2), 5_000, 3_700)
    verdict = is_ghost_session(points, "Charging", NOW, DEFAULT_POLICY)
    assert not verdict.is_ghost
    assert "3700 W" in verdict.reason


def test_power_at_the_threshold_or_unknown_counts_as_not_charging():
    assert ghost(readings(20, power_w=100))
    assert ghost(readings(20, power_w=None))
    assert not ghost(readings(20, power_w=101))


def test_power_before_the_window_does_not_count():
    points = readings(20)
    points[0] = MeterObservation(minutes_ago(20), 5_000, 7_000)
    assert ghost(points)


def test_no_status_is_judged_on_the_readings_alone():
    verdict = is_ghost_session(readings(20), None, NOW, DEFAULT_POLICY)
    assert verdict.is_ghost
    assert verdict.reason.startswith("no connector status")


def test_no_readings_cannot_be_judged():
    verdict = is_ghost_session([], "Charging", NOW, DEFAULT_POLICY)
    assert not verdict.is_ghost
    assert not verdict.enough_readings
    assert "stuck" in verdict.reason


def test_readings_older_than_the_window_cannot_be_judged():
    old = [MeterObservation(minutes_ago(m), 5_000, 0) for m in (40, 30, 16)]
    verdict = is_ghost_session(old, "Available", NOW, DEFAULT_POLICY)
    assert (verdict.is_ghost, verdict.enough_readings) == (False, False)


def test_readings_that_start_inside_the_window_cannot_be_judged():
    verdict = is_ghost_session(readings(10), "Charging", NOW, DEFAULT_POLICY)
    assert (verdict.is_ghost, verdict.enough_readings) == (False, False)


def test_power_alone_without_energy_cannot_be_judged():
    points = [MeterObservation(minutes_ago(m), None, 0) for m in range(20, -1, -1)]
    verdict = is_ghost_session(points, "Charging", NOW, DEFAULT_POLICY)
    assert (verdict.is_ghost, verdict.enough_readings) == (False, False)


def test_the_baseline_is_the_last_energy_reading_before_the_window():
    points = [
        MeterObservation(minutes_ago(30), 4_000, None),
        MeterObservation(minutes_ago(20), 5_000, None),
        MeterObservation(minutes_ago(16), None, 0),  # power only
        MeterObservation(minutes_ago(5), 5_005, 0),
        MeterObservation(minutes_ago(1), None, 0),
    ]
    assert ghost(points)


def test_a_register_that_falls_back_counts_only_its_rises():
    # A reboot mid-session restarts a per-transaction register.
    points = readings(20)
    restarted = [MeterObservation(p.at, 0, 0) for p in points[-8:]]
    assert ghost([*points[:-8], *restarted])
    rising = [MeterObservation(p.at, 6 * n, 0) for n, p in enumerate(points[-8:])]
    assert not ghost([*points[:-8], *rising])  # 42 Wh since the restart


def test_readings_in_any_order_and_after_now_are_handled():
    points = list(reversed(readings(20)))
    points.append(MeterObservation(NOW + 5 * MINUTE, 9_000, 7_000))  # a clock ahead
    assert ghost(points)


@given(
    st.integers(0, 14),  # the reading exactly at the window's start is the one before it
    st.integers(101, 50_000),
    st.sampled_from(["Charging", "Available", None, "Occupied"]),
)
def test_any_power_above_the_threshold_in_the_window_is_never_a_ghost(
    minute: int, power_w: int, status: str | None
):
    points = readings(20)
    index = len(points) - 1 - minute
    points[index] = MeterObservation(points[index].at, points[index].energy_wh, power_w)
    assert not ghost(points, status)


@given(
    st.lists(
        st.builds(
            MeterObservation,
            st.integers(0, 60).map(minutes_ago),
            st.none() | st.integers(0, 100_000),
            st.none() | st.integers(0, 50_000),
        ),
        max_size=30,
    ),
    st.sampled_from(["SuspendedEV", "SuspendedEVSE"]),
)
def test_a_legitimate_pause_is_never_a_ghost(points: list[MeterObservation], status: str):
    assert not ghost(points, status)


# --- Stuck sessions and offline stations -------------------------------------------------------


def test_a_session_without_any_meter_value_is_stuck_after_30_minutes():
    assert not is_stuck_session(None, minutes_ago(29), NOW, DEFAULT_POLICY)
    assert is_stuck_session(None, minutes_ago(30), NOW, DEFAULT_POLICY)


def test_a_recent_meter_value_means_not_stuck():
    assert not is_stuck_session(minutes_ago(10), minutes_ago(120), NOW, DEFAULT_POLICY)
    assert is_stuck_session(minutes_ago(31), minutes_ago(120), NOW, DEFAULT_POLICY)


def test_a_meter_value_from_before_the_start_counts_from_the_start():
    assert not is_stuck_session(minutes_ago(90), minutes_ago(5), NOW, DEFAULT_POLICY)


def test_an_offline_station_gets_an_alert_after_the_delay():
    assert not offline_alert_due(None, NOW, DEFAULT_POLICY)
    assert not offline_alert_due(minutes_ago(4), NOW, DEFAULT_POLICY)
    assert offline_alert_due(minutes_ago(5), NOW, DEFAULT_POLICY)
