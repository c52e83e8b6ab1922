"""One simulated charging station: it boots, sends heartbeats and statuses, charges (RFID
starts on its own, remote starts when asked), meters, faults, loses the network and replays
what it queued, and answers the CPMS's commands like a real station."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, InvalidURI, WebSocketException
from websockets.typing import Subprotocol

from simulator.report import Tally

OCPP16, OCPP201 = "ocpp1.6", "ocpp2.0.1"
CALL_TIMEOUT_S = 30
# The ocpp library's own wait is longer, so that ours always ends a call (and cancels it).
_LIBRARY_TIMEOUT_S = CALL_TIMEOUT_S + 5


class _LateAnswers(logging.Filter):
    """Answers that come after we gave up on them are counted as timeouts, not logged one by
    one (the ocpp library logs each as an error)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Ignoring response with unknown unique id")


logging.getLogger("ocpp").addFilter(_LateAnswers())


@dataclass(frozen=True)
class Behaviour:
    """How stations behave; times in seconds. Every random draw is per station."""

    heartbeat_s: float = 300
    meter_interval_s: float = 60
    idle_s: tuple[float, float] = (60, 600)  # between sessions
    session_s: tuple[float, float] = (900, 3600)
    power_w: int = 11_000
    sessions: bool = True  # RFID sessions of its own (remote starts are always answered)
    fault_chance: float = 0.02  # per session cycle: a fault a reset clears
    drop_chance: float = 0.02  # per session: the network drops in the middle of it
    drop_s: tuple[float, float] = (20, 120)
    id_tag: str = "SIM-RFID"


def _now() -> str:
    return datetime.now(UTC).isoformat()


class SimulatedStation:
    def __init__(
        self,
        identity: str,
        protocol: str,
        url: str,
        behaviour: Behaviour,
        tally: Tally,
        password: str | None = None,
        local_address: str | None = None,
        seed: int | None = None,
        connect_gate: asyncio.Semaphore | None = None,
        validate: bool = True,
    ) -> None:
        self.connect_gate = connect_gate or asyncio.Semaphore(1)
        self.validate = validate  # what we send and what comes back, against the schemas
        self.identity = identity
        self.protocol = protocol
        self.url = url.rstrip("/")
        self.behaviour = behaviour
        self.tally = tally
        self.password = password
        self.local_address = local_address
        self.random = random.Random(seed)  # noqa: S311 (simulation, not security)
        self.register_wh = self.random.randint(0, 5_000_000)
        self.client: Any = None
        self.online = asyncio.Event()
        self.start_now: asyncio.Queue[str] = asyncio.Queue()  # remote starts
        self.stop_now = asyncio.Event()
        self.reset_asked = asyncio.Event()
        self.offline_queue: list[Any] = []
        self.transaction: str | None = None
        self.seq_no = 0
        self.until = 0.0  # monotonic time the simulation ends
        self.closed = asyncio.Event()  # the current connection is gone
        self.renew = asyncio.Event()  # drop the connection (network loss, reboot)
        self.offline_for = 0.0  # before connecting again

    def _left(self) -> float:
        return max(0.0, self.until - time.monotonic())

    # -- the connection ------------------------------------------------------------------

    async def _connect(self) -> ClientConnection:
        headers = {}
        if self.password is not None:
            token = base64.b64encode(f"{self.identity}:{self.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        extra: dict[str, Any] = {}
        if self.local_address:
            extra["local_addr"] = (self.local_address, 0)
        return await connect(
            f"{self.url}/{self.identity}",
            subprotocols=[Subprotocol(self.protocol)],
            additional_headers=headers,
            open_timeout=30,
            ping_interval=None,
            # Like most chargers: no permessage-deflate (it cost the server 42 of its 75 KiB
            # per connection, measured).
            compression=None,
            max_size=2**20,
            **extra,
        )

    async def run(self, until: float) -> None:
        """Be a station until the monotonic time `until`. What it does (charging, faults) goes
        on across connections, as on a real station; only the connection is renewed."""
        self.until = until
        behaviour = asyncio.create_task(self._behave())
        try:
            while self._left() > 0:
                await self._stay_connected()
                offline_for, self.offline_for = self.offline_for, 0.0
                await asyncio.sleep(min(offline_for, self._left()))
        finally:
            behaviour.cancel()
            with contextlib.suppress(BaseException):
                await behaviour

    def drop(self, offline_for: float = 0.0) -> None:
        """The network goes away now, without a goodbye, for `offline_for` seconds."""
        self.tally.drops += 1
        self._disconnect(offline_for)

    def _disconnect(self, offline_for: float) -> None:
        self.offline_for = offline_for
        self.renew.set()

    async def _stay_connected(self) -> None:
        """One connection, from connecting to its loss (or the end of the run)."""
        try:
            async with self.connect_gate:
                if self._left() <= 0:
                    return  # the run ended while waiting for a turn to connect
                websocket = await asyncio.wait_for(self._connect(), self._left())
        except (OSError, WebSocketException, TimeoutError) as error:
            if isinstance(error, TimeoutError) and self._left() <= 0:
                return  # the run ended while connecting: not the server's failure
            self.tally.connect_failures += 1
            self.tally.connect_failure_reasons[connect_failure_reason(error)] += 1
            await asyncio.sleep(min(5.0, self._left()))
            return
        self.tally.connects += 1
        self.renew.clear()
        self.closed = asyncio.Event()
        self.client = (Client16 if self.protocol == OCPP16 else Client201)(self, websocket)
        reader = asyncio.create_task(self.client.start())
        reader.add_done_callback(lambda _: self.closed.set())
        heartbeats = asyncio.create_task(self._heartbeats())
        try:
            if await self._boot() and await self._replay():
                self.online.set()
                await self.send(self._status(1, "Charging" if self.transaction else "Available"))
                await self._wait(self._left(), self.closed, self.renew)
        finally:
            self.online.clear()
            self.closed.set()
            heartbeats.cancel()
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
            if self.renew.is_set():
                websocket.transport.abort()  # a lost network says no goodbye
            else:
                with contextlib.suppress(BaseException):
                    await websocket.close()

    async def _replay(self) -> bool:
        """Send what was queued while offline, in order; False if the connection went first."""
        while self.offline_queue:
            answer = await self._call(self.offline_queue[0])
            if answer is _LOST:
                return False
            self.offline_queue.pop(0)
            self.tally.replayed += 1
        return True

    async def send(self, payload: Any) -> Any:
        """One message once online; its answer (None after a CallError or no answer). Offline,
        transaction messages are queued for later, as stations do, and the rest is dropped."""
        if not self.online.is_set():
            if _is_transaction_message(payload):
                self.offline_queue.append(payload)
            return None
        answer = await self._call(payload)
        if answer is _LOST:
            if _is_transaction_message(payload):
                self.offline_queue.append(payload)  # unanswered: sent again after reconnecting
            return None
        return answer

    async def _call(self, payload: Any) -> Any:
        """One message on the current connection: its answer, None, or _LOST when the
        connection went away before the answer came."""
        action = type(payload).__name__
        self.tally.sent[action] += 1
        started = time.perf_counter()
        call = asyncio.ensure_future(
            self.client.call(payload, suppress=False, skip_schema_validation=not self.validate)
        )
        closed = asyncio.ensure_future(self.closed.wait())
        try:
            await asyncio.wait(
                (call, closed), timeout=CALL_TIMEOUT_S, return_when="FIRST_COMPLETED"
            )
        except asyncio.CancelledError:
            call.cancel()  # nobody waits for the answer any more
            raise
        finally:
            closed.cancel()
        if not call.done():
            call.cancel()
            if self.closed.is_set():
                self.tally.lost[action] += 1
                return _LOST
            self.tally.timeouts[action] += 1
            return None
        try:
            answer = call.result()
        except OCPPError as error:
            self.tally.call_errors[f"{action}: {error.code}"] += 1
            self.tally.last_errors[action] = str(error)[:300]
            return None
        except (WebSocketException, OSError):
            self.tally.lost[action] += 1
            return _LOST
        self.tally.answered[action] += 1
        self.tally.latency((time.perf_counter() - started) * 1000)
        return answer

    async def _boot(self) -> bool:
        """Boot until accepted (a Pending station asks again after the interval it was given);
        False if the run ended or the connection went first."""
        while self._left() > 0:
            answer = await self._call(self._boot_call())
            if answer is _LOST:
                return False
            if answer is not None and answer.status == "Accepted":
                return True
            retry = answer.interval if answer is not None and answer.interval else 10
            if await self._wait(retry, self.closed, self.renew):
                return False
        return False

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.behaviour.heartbeat_s * self.random.uniform(0.9, 1.1))
            if self.online.is_set():
                await self.send(self._heartbeat())

    # -- what a station does ---------------------------------------------------------------

    async def _wait(self, seconds: float, *events: asyncio.Event) -> bool:
        """Sleep, or less if one of the events fires; whether one did."""
        waiters = [asyncio.create_task(event.wait()) for event in events]
        try:
            done, _ = await asyncio.wait(
                waiters,
                timeout=min(max(0.0, seconds), self._left()),
                return_when=asyncio.FIRST_COMPLETED,
            )
            return bool(done)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _behave(self) -> None:
        while self._left() > 0:
            if not self.online.is_set():
                await self._wait(self._left(), self.online)
                continue
            await self._cycle()

    async def _cycle(self) -> None:
        """Idle, then one session (or a fault), or a reboot when the CPMS asked for one."""
        behaviour = self.behaviour
        idle = self.random.uniform(*behaviour.idle_s) if behaviour.sessions else self._left()
        remote_start = asyncio.ensure_future(self.start_now.get())
        try:
            await self._wait(idle, self.reset_asked, _done_event(remote_start))
        finally:
            tag = remote_start.result() if remote_start.done() else None
            remote_start.cancel()
        if self.reset_asked.is_set():
            return await self._reboot()
        if tag is None and (not behaviour.sessions or self._left() <= 0):
            return None
        if not self.online.is_set():
            return None  # a station starts no session while it cannot ask the CPMS
        if tag is None and self.random.random() < behaviour.fault_chance:
            return await self._fault()
        await self._session(tag or behaviour.id_tag, remote=tag is not None)
        if self.reset_asked.is_set():
            await self._reboot()
        return None

    async def _fault(self) -> None:
        self.tally.faults += 1
        await self.send(self._status(1, "Faulted", "InternalError"))
        if await self._wait(120, self.reset_asked):  # a remote reset clears it
            return await self._reboot()
        await self.send(self._status(1, "Available"))
        return None

    async def _reboot(self) -> None:
        self.reset_asked.clear()
        self._disconnect(offline_for=self.random.uniform(1, 3))
        await self._wait(self._left(), self.closed)

    async def _session(self, tag: str, remote: bool) -> None:
        behaviour = self.behaviour
        if not remote:
            authorized = await self.send(self._authorize(tag))
            if authorized is None or self._token_status(authorized) != "Accepted":
                return
        await self.send(self._status(1, "Preparing"))
        if not await self._start(tag):
            await self.send(self._status(1, "Available"))
            return
        self.tally.sessions += 1
        await self.send(self._status(1, "Charging"))
        ends = time.monotonic() + self.random.uniform(*behaviour.session_s)
        drop_at = (
            time.monotonic() + self.random.uniform(0, ends - time.monotonic())
            if self.random.random() < behaviour.drop_chance
            else None
        )
        self.stop_now.clear()
        while time.monotonic() < ends and self._left() > 0:
            if await self._wait(behaviour.meter_interval_s, self.stop_now, self.reset_asked):
                break
            self.register_wh += int(behaviour.power_w * behaviour.meter_interval_s / 3600)
            await self._meter(behaviour.power_w)
            if drop_at is not None and time.monotonic() >= drop_at:
                drop_at = None  # charging goes on offline; its messages wait in the queue
                self.drop(offline_for=self.random.uniform(*behaviour.drop_s))
        if self._left() <= 0:
            return  # the run is over, not the session
        await self._stop("Remote" if self.stop_now.is_set() else "Local")
        await self.send(self._status(1, "Finishing"))
        await self.send(self._status(1, "Available"))

    async def _meter(self, power_w: int) -> None:
        await self.send(self._meter_call(power_w))

    async def _start(self, tag: str) -> bool:
        if self.protocol == OCPP16:
            answer = await self.send(
                call16.StartTransaction(
                    connector_id=1, id_tag=tag, meter_start=self.register_wh, timestamp=_now()
                )
            )
            if answer is None or answer.id_tag_info["status"] != "Accepted":
                return False
            self.transaction = str(answer.transaction_id)
            return True
        self.transaction, self.seq_no = uuid.uuid4().hex[:36], 0
        answer = await self.send(self._event("Started", "Authorized", tag))
        return answer is not None

    async def _stop(self, reason: str) -> None:
        if self.transaction is not None:
            await self.send(self._stop_call(reason))
            self.transaction = None

    # -- messages of each version ----------------------------------------------------------

    def _boot_call(self) -> Any:
        if self.protocol == OCPP16:
            return call16.BootNotification(
                charge_point_vendor="CPMS", charge_point_model="Simulator", firmware_version="1.0"
            )
        return call201.BootNotification(
            charging_station={"model": "Simulator", "vendor_name": "CPMS"}, reason="PowerUp"
        )

    def _heartbeat(self) -> Any:
        return call16.Heartbeat() if self.protocol == OCPP16 else call201.Heartbeat()

    def _status(self, connector: int, status: str, error: str = "NoError") -> Any:
        if self.protocol == OCPP16:
            return call16.StatusNotification(
                connector_id=connector, error_code=error, status=status, timestamp=_now()
            )
        status201 = {
            "Preparing": "Occupied",
            "Charging": "Occupied",
            "Finishing": "Occupied",
        }.get(status, status)
        return call201.StatusNotification(
            timestamp=_now(), connector_status=status201, evse_id=1, connector_id=connector
        )

    def _authorize(self, tag: str) -> Any:
        if self.protocol == OCPP16:
            return call16.Authorize(id_tag=tag)
        return call201.Authorize(id_token={"id_token": tag, "type": "ISO14443"})

    def _token_status(self, answer: Any) -> str:
        info = answer.id_tag_info if self.protocol == OCPP16 else answer.id_token_info
        return str(info["status"])

    def _reading(self, power_w: int) -> list[dict[str, Any]]:
        if self.protocol == OCPP16:  # values are strings in 1.6, numbers in 2.0.1
            sampled: list[dict[str, Any]] = [
                {"value": str(self.register_wh), "measurand": "Energy.Active.Import.Register"},
                {"value": str(power_w), "measurand": "Power.Active.Import", "unit": "W"},
            ]
        else:
            sampled = [
                {"value": self.register_wh, "measurand": "Energy.Active.Import.Register"},
                {
                    "value": power_w,
                    "measurand": "Power.Active.Import",
                    "unit_of_measure": {"unit": "W"},
                },
            ]
        return [{"timestamp": _now(), "sampled_value": sampled}]

    def _meter_call(self, power_w: int) -> Any:
        if self.protocol == OCPP16:
            return call16.MeterValues(
                connector_id=1,
                transaction_id=int(self.transaction) if self.transaction else None,
                meter_value=self._reading(power_w),
            )
        return self._event("Updated", "MeterValuePeriodic", None, power_w)

    def _stop_call(self, reason: str) -> Any:
        if self.protocol == OCPP16:
            return call16.StopTransaction(
                transaction_id=int(self.transaction or 0),
                meter_stop=self.register_wh,
                timestamp=_now(),
                reason=reason,
            )
        return self._event("Ended", "StopAuthorized", None, 0, stopped=reason)

    def _event(
        self,
        event_type: str,
        trigger: str,
        tag: str | None,
        power_w: int = 0,
        stopped: str | None = None,
    ) -> Any:
        info: dict[str, Any] = {"transaction_id": self.transaction}
        if stopped:
            info["stopped_reason"] = stopped
        event = call201.TransactionEvent(
            event_type=event_type,
            timestamp=_now(),
            trigger_reason=trigger,
            seq_no=self.seq_no,
            transaction_info=info,
            evse={"id": 1, "connector_id": 1},
            id_token={"id_token": tag, "type": "ISO14443"} if tag else None,
            meter_value=self._reading(power_w),
            offline=not self.online.is_set(),
        )
        self.seq_no += 1
        return event


def connect_failure_reason(error: BaseException) -> str:
    """Why a connection could not be opened, in an operator's words."""
    if isinstance(error, InvalidStatus):
        status = error.response.status_code
        if status in (401, 403):
            return f"refused (HTTP {status}): not registered, or a wrong password"
        if status == 404:
            return "refused (HTTP 404): wrong path, the URL should end in /ocpp"
        return f"refused (HTTP {status})"
    if isinstance(error, InvalidURI):
        return f"bad URL: {error.uri}"
    if isinstance(error, socket.gaierror):
        return "unknown host"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused: nothing listens at that address"
    if isinstance(error, TimeoutError):
        return "timed out"
    return f"{type(error).__name__}: {error}"[:200]


_LOST = object()  # the connection went away before the answer came


def _is_transaction_message(payload: Any) -> bool:
    """Messages of a running transaction, which a station keeps until they are answered.
    A start is not among them: a station whose start went unanswered does not charge."""
    action = type(payload).__name__
    if action == "TransactionEvent":
        return bool(payload.event_type != "Started")
    return action in ("StopTransaction", "MeterValues")


def _done_event(future: asyncio.Future[Any]) -> asyncio.Event:
    """An event set when the future is done."""
    event = asyncio.Event()
    future.add_done_callback(lambda _: event.set())
    return event


def _accept(name: str, station: SimulatedStation, result: Callable[[], Any]) -> Any:
    station.tally.commands[name] += 1
    return result()


class Client16(ChargePoint16):
    """Answers the CPMS like a 1.6 station does."""

    def __init__(self, station: SimulatedStation, connection: Any) -> None:
        super().__init__(station.identity, connection, response_timeout=_LIBRARY_TIMEOUT_S)
        self.station = station

    @on(Action16.remote_start_transaction)
    def remote_start(self, id_tag: str, **_: Any) -> result16.RemoteStartTransaction:
        if self.station.transaction is not None:
            return _accept(
                "RemoteStart",
                self.station,
                lambda: result16.RemoteStartTransaction(status="Rejected"),
            )
        self.station.start_now.put_nowait(id_tag)
        return _accept(
            "RemoteStart", self.station, lambda: result16.RemoteStartTransaction(status="Accepted")
        )

    @on(Action16.remote_stop_transaction)
    def remote_stop(self, transaction_id: int, **_: Any) -> result16.RemoteStopTransaction:
        ours = str(transaction_id) == self.station.transaction
        if ours:
            self.station.stop_now.set()
        status = "Accepted" if ours else "Rejected"
        return _accept(
            "RemoteStop", self.station, lambda: result16.RemoteStopTransaction(status=status)
        )

    @on(Action16.reset)
    def reset(self, **_: Any) -> result16.Reset:
        self.station.reset_asked.set()
        return _accept("Reset", self.station, lambda: result16.Reset(status="Accepted"))

    @on(Action16.unlock_connector)
    def unlock(self, **_: Any) -> result16.UnlockConnector:
        return _accept(
            "UnlockConnector", self.station, lambda: result16.UnlockConnector(status="Unlocked")
        )

    @on(Action16.change_availability)
    def availability(self, **_: Any) -> result16.ChangeAvailability:
        return _accept(
            "ChangeAvailability",
            self.station,
            lambda: result16.ChangeAvailability(status="Accepted"),
        )

    @on(Action16.trigger_message)
    def trigger(self, requested_message: str, **_: Any) -> result16.TriggerMessage:
        station = self.station
        if requested_message == "MeterValues":
            asyncio.get_running_loop().create_task(station._meter(0))
        elif requested_message == "StatusNotification":
            state = "Charging" if station.transaction else "Available"
            asyncio.get_running_loop().create_task(station.send(station._status(1, state)))
        elif requested_message == "Heartbeat":
            asyncio.get_running_loop().create_task(station.send(station._heartbeat()))
        return _accept(
            "TriggerMessage", station, lambda: result16.TriggerMessage(status="Accepted")
        )

    @on(Action16.get_configuration)
    def configuration(self, **_: Any) -> result16.GetConfiguration:
        keys = [
            {
                "key": "HeartbeatInterval",
                "readonly": False,
                "value": str(int(self.station.behaviour.heartbeat_s)),
            }
        ]
        return _accept(
            "GetConfiguration",
            self.station,
            lambda: result16.GetConfiguration(configuration_key=keys),
        )

    @on(Action16.change_configuration)
    def change(self, key: str, value: str, **_: Any) -> result16.ChangeConfiguration:
        if key == "AuthorizationKey":  # a new password: the next connection uses it
            self.station.password = value
        return _accept(
            "ChangeConfiguration",
            self.station,
            lambda: result16.ChangeConfiguration(status="Accepted"),
        )

    @on(Action16.clear_cache)
    def clear_cache(self, **_: Any) -> result16.ClearCache:
        return _accept("ClearCache", self.station, lambda: result16.ClearCache(status="Accepted"))

    @on(Action16.set_charging_profile)
    def profile(self, **_: Any) -> result16.SetChargingProfile:
        return _accept(
            "SetChargingProfile",
            self.station,
            lambda: result16.SetChargingProfile(status="Accepted"),
        )

    @on(Action16.reserve_now)
    def reserve(self, **_: Any) -> result16.ReserveNow:
        return _accept("ReserveNow", self.station, lambda: result16.ReserveNow(status="Accepted"))

    @on(Action16.cancel_reservation)
    def cancel(self, **_: Any) -> result16.CancelReservation:
        return _accept(
            "CancelReservation", self.station, lambda: result16.CancelReservation(status="Accepted")
        )


class Client201(ChargePoint201):
    """Answers the CPMS like a 2.0.1 station does."""

    def __init__(self, station: SimulatedStation, connection: Any) -> None:
        super().__init__(station.identity, connection, response_timeout=_LIBRARY_TIMEOUT_S)
        self.station = station

    @on(Action201.request_start_transaction)
    def remote_start(
        self, id_token: dict, remote_start_id: int, **_: Any
    ) -> result201.RequestStartTransaction:
        if self.station.transaction is not None:
            return _accept(
                "RemoteStart",
                self.station,
                lambda: result201.RequestStartTransaction(status="Rejected"),
            )
        self.station.start_now.put_nowait(id_token["id_token"])
        return _accept(
            "RemoteStart",
            self.station,
            lambda: result201.RequestStartTransaction(status="Accepted"),
        )

    @on(Action201.request_stop_transaction)
    def remote_stop(self, transaction_id: str, **_: Any) -> result201.RequestStopTransaction:
        ours = transaction_id == self.station.transaction
        if ours:
            self.station.stop_now.set()
        status = "Accepted" if ours else "Rejected"
        return _accept(
            "RemoteStop", self.station, lambda: result201.RequestStopTransaction(status=status)
        )

    @on(Action201.reset)
    def reset(self, **_: Any) -> result201.Reset:
        self.station.reset_asked.set()
        return _accept("Reset", self.station, lambda: result201.Reset(status="Accepted"))

    @on(Action201.unlock_connector)
    def unlock(self, **_: Any) -> result201.UnlockConnector:
        return _accept(
            "UnlockConnector", self.station, lambda: result201.UnlockConnector(status="Unlocked")
        )

    @on(Action201.change_availability)
    def availability(self, **_: Any) -> result201.ChangeAvailability:
        return _accept(
            "ChangeAvailability",
            self.station,
            lambda: result201.ChangeAvailability(status="Accepted"),
        )

    @on(Action201.trigger_message)
    def trigger(self, requested_message: str, **_: Any) -> result201.TriggerMessage:
        station = self.station
        if requested_message == "StatusNotification":
            state = "Charging" if station.transaction else "Available"
            asyncio.get_running_loop().create_task(station.send(station._status(1, state)))
        elif requested_message == "Heartbeat":
            asyncio.get_running_loop().create_task(station.send(station._heartbeat()))
        return _accept(
            "TriggerMessage", station, lambda: result201.TriggerMessage(status="Accepted")
        )

    @on(Action201.set_charging_profile)
    def profile(self, **_: Any) -> result201.SetChargingProfile:
        return _accept(
            "SetChargingProfile",
            self.station,
            lambda: result201.SetChargingProfile(status="Accepted"),
        )
