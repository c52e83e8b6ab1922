"""What the simulated stations sent and got back, summed up."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# Latencies kept for percentiles: a uniform sample, so memory stays flat on long runs.
SAMPLE_SIZE = 20_000


@dataclass
class Tally:
    sent: Counter[str] = field(default_factory=Counter)
    answered: Counter[str] = field(default_factory=Counter)
    call_errors: Counter[str] = field(default_factory=Counter)  # "Action: code"
    last_errors: dict[str, str] = field(default_factory=dict)  # an example of each
    timeouts: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)  # unanswered when the connection went
    commands: Counter[str] = field(default_factory=Counter)  # received from the CPMS
    connects: int = 0
    connect_failures: int = 0
    connect_failure_reasons: Counter[str] = field(default_factory=Counter)
    drops: int = 0
    replayed: int = 0  # queued while offline, sent after the reconnect
    sessions: int = 0
    faults: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    _seen: int = 0

    def latency(self, ms: float) -> None:
        self._seen += 1
        if len(self.latencies_ms) < SAMPLE_SIZE:
            self.latencies_ms.append(ms)
        else:
            slot = random.randrange(self._seen)  # noqa: S311 (sampling, not security)
            if slot < SAMPLE_SIZE:
                self.latencies_ms[slot] = ms

    def merge(self, other: Tally) -> None:
        for name in (
            "sent",
            "answered",
            "call_errors",
            "timeouts",
            "lost",
            "commands",
            "connect_failure_reasons",
        ):
            getattr(self, name).update(getattr(other, name))
        self.last_errors.update(other.last_errors)
        for name in ("connects", "connect_failures", "drops", "replayed", "sessions", "faults"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.latencies_ms.extend(other.latencies_ms)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": dict(self.sent),
            "answered": dict(self.answered),
            "call_errors": dict(self.call_errors),
            "call_error_examples": dict(self.last_errors),
            "timeouts": dict(self.timeouts),
            "lost_to_dropped_connections": dict(self.lost),
            "commands_received": dict(self.commands),
            "connects": self.connects,
            "connect_failures": self.connect_failures,
            "connect_failure_reasons": dict(self.connect_failure_reasons),
            "network_drops": self.drops,
            "replayed_after_reconnect": self.replayed,
            "sessions": self.sessions,
            "faults": self.faults,
            "latency_ms": percentiles(self.latencies_ms),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], latencies: list[float]) -> Tally:
        tally = cls()
        tally.sent.update(data["sent"])
        tally.answered.update(data["answered"])
        tally.call_errors.update(data["call_errors"])
        tally.last_errors.update(data["call_error_examples"])
        tally.timeouts.update(data["timeouts"])
        tally.lost.update(data["lost_to_dropped_connections"])
        tally.commands.update(data["commands_received"])
        tally.connects = data["connects"]
        tally.connect_failures = data["connect_failures"]
        tally.connect_failure_reasons.update(data["connect_failure_reasons"])
        tally.drops = data["network_drops"]
        tally.replayed = data["replayed_after_reconnect"]
        tally.sessions = data["sessions"]
        tally.faults = data["faults"]
        tally.latencies_ms = latencies
        return tally


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 3)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1], 3)}
