"""Typed domain events and the bus that carries them between processes.

Events are pydantic models published as JSON on one channel per event kind, over broadcaster:
`memory://` inside one process, Redis pub/sub across processes. They are published only after
the transaction that caused them commits (see `app.unit_of_work`).

broadcaster 0.3.1 is used with two fixes, each covered by a test that fails on the stock code:
- `RedisPubSubBackend`: the stock Redis backend wakes its listener before `SUBSCRIBE` is sent;
  with redis-py 8 the listener finds no subscription, stops, and nothing is ever delivered.
  Ours subscribes first, then wakes the listener, and survives a Redis restart.
- `SafeBroadcast.subscribe`: two subscribers arriving together on a new channel both saw it
  empty, both subscribed, and the second replaced the first's queue. Ours registers the queue
  under a lock before subscribing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from broadcaster import Broadcast, Event
from broadcaster._backends.base import BroadcastBackend
from broadcaster._backends.memory import MemoryBackend
from pydantic import BaseModel, ConfigDict, Field
from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app import metrics
from app.config import redis_namespace

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "cpms:events:"


def _now() -> datetime:
    return datetime.now(UTC)


class DomainEvent(BaseModel):
    """Base of every event; `kind` names its channel."""

    model_config = ConfigDict(frozen=True)

    kind: ClassVar[str]
    occurred_at: datetime = Field(default_factory=_now)

    @classmethod
    def channel(cls) -> str:
        return CHANNEL_PREFIX + cls.kind


class StationConnectionChanged(DomainEvent):
    """A station's websocket opened or closed on some node."""

    kind: ClassVar[str] = "station.connection"
    organization_id: int
    identity: str
    connected: bool
    protocol: str | None = None
    node_id: str
    station_id: int | None = None  # None only from nodes of an earlier version


class StationStatusChanged(DomainEvent):
    """A station's own status (connector 0) or registration changed."""

    kind: ClassVar[str] = "station.status"
    organization_id: int
    station_id: int
    identity: str
    status: str


class ConnectorStatusChanged(DomainEvent):
    """A connector reported a new status."""

    kind: ClassVar[str] = "connector.status"
    organization_id: int
    station_id: int
    identity: str
    evse_id: int
    connector_id: int
    status: str
    error_code: str | None = None
    vendor_error_code: str | None = None
    info: str | None = None


class ReportedVariableEvent(BaseModel):
    """One item of a 2.0.1 NotifyEvent: a device-model variable's value when the event fired."""

    model_config = ConfigDict(frozen=True)

    component: str
    variable: str
    value: str | None = None
    evse_id: int = 0
    connector_id: int = 0
    trigger: str | None = None
    cleared: bool = False
    tech_code: str | None = None
    tech_info: str | None = None


class StationEventsReported(DomainEvent):
    """A station reported events of its device model (2.0.1 NotifyEvent), kept as its
    configuration's current values."""

    kind: ClassVar[str] = "station.events"
    organization_id: int
    station_id: int
    identity: str
    events: list[ReportedVariableEvent]


class ConnectorRemoved(DomainEvent):
    """An operator deleted a connector: every node forgets the row ids it cached for it."""

    kind: ClassVar[str] = "connector.removed"
    organization_id: int
    station_id: int
    evse_id: int
    connector_id: int


class StationBooted(DomainEvent):
    """A station sent BootNotification and got an answer."""

    kind: ClassVar[str] = "station.booted"
    organization_id: int
    station_id: int
    identity: str
    registration_status: str
    vendor: str | None = None
    model: str | None = None
    firmware_version: str | None = None
    reason: str | None = None


class SecurityEventRaised(DomainEvent):
    """A security event reported by a station, or seen by us (refused credentials)."""

    kind: ClassVar[str] = "station.security_event"
    organization_id: int | None
    station_id: int | None
    identity: str
    type: str
    tech_info: str | None = None
    source: str  # station | server


class StationApproved(DomainEvent):
    """An operator accepted a station that waited for approval (or was refused)."""

    kind: ClassVar[str] = "station.approved"
    organization_id: int
    station_id: int
    identity: str


class PartnerDeliveryChanged(DomainEvent):
    """What we push to a roaming partner has failed for long (`failing_since`), or reaches it
    again (`failing_since` None)."""

    kind: ClassVar[str] = "roaming.partner_delivery"
    organization_id: int
    partner_id: int
    partner_name: str
    failing_since: datetime | None
    error: str | None = None


class FirmwareStatusReported(DomainEvent):
    """A station reported how its firmware update goes (FirmwareStatusNotification)."""

    kind: ClassVar[str] = "station.firmware_status"
    organization_id: int
    station_id: int
    identity: str
    status: str


class CredentialsChanged(DomainEvent):
    """A credential stopped holding, or what it grants changed: an API key revoked, a user
    signed out, deactivated or given another role, an organization suspended. Every node checks
    the credentials of its open connections of that organization again."""

    kind: ClassVar[str] = "auth.credentials"
    organization_id: int


class SessionChanged(DomainEvent):
    """A charging session started, progressed (energy, power) or ended."""

    kind: ClassVar[str] = "session.changed"
    organization_id: int
    session_id: int
    station_id: int
    identity: str
    transaction_id: str
    phase: str  # started | updated | ended
    state: str
    started_at: datetime | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    energy_wh: int = 0
    power_w: int | None = None
    stop_reason: str | None = None


class CommandCompleted(DomainEvent):
    """A remote command got its answer, or failed (offline, timeout, call error)."""

    kind: ClassVar[str] = "command.completed"
    organization_id: int
    station_id: int
    identity: str
    command_log_id: int
    action: str
    status: str  # accepted | rejected | failed | timeout
    station_status: str | None = None  # what the station said (Accepted, Rejected, ...)
    error_code: str | None = None


class AlertChanged(DomainEvent):
    """An alert opened or resolved."""

    kind: ClassVar[str] = "alert.changed"
    organization_id: int
    alert_id: int
    station_id: int | None = None
    alert_kind: str
    severity: str
    status: str  # open | resolved
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    opened_at: datetime
    resolved_at: datetime | None = None


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    event_type.kind: event_type
    for event_type in (
        StationConnectionChanged,
        StationStatusChanged,
        ConnectorStatusChanged,
        ConnectorRemoved,
        StationBooted,
        SecurityEventRaised,
        CredentialsChanged,
        SessionChanged,
        CommandCompleted,
        AlertChanged,
    )
}


def encode_event(event: DomainEvent) -> str:
    return event.model_dump_json()


def decode_event(channel: str, message: str) -> DomainEvent:
    event_type = EVENT_TYPES[channel.removeprefix(CHANNEL_PREFIX)]
    return event_type.model_validate_json(message)


class RedisPubSubBackend(BroadcastBackend):
    """broadcaster backend on Redis pub/sub that subscribes before it listens."""

    RECONNECT_DELAY_S = 0.5

    # Messages waiting for Redis beyond this are dropped (oldest first) rather than hold memory.
    MAX_OUTBOX = 100_000

    def __init__(self, url: str) -> None:
        self._redis = aioredis.Redis.from_url(url, decode_responses=True)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._has_subscriptions = asyncio.Event()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._listener: asyncio.Task[None] | None = None
        # Publishing goes through one task that pipelines whatever has queued up: in order,
        # one round trip for many messages, and never one connection per concurrent publisher.
        self._outbox: deque[tuple[str, str]] = deque()
        self._outbox_ready = asyncio.Event()
        self._publisher: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        await self._redis.ping()
        self._listener = asyncio.create_task(self._listen(), name="redis-pubsub-listener")
        self._publisher = asyncio.create_task(self._publish_queued(), name="redis-publisher")

    async def disconnect(self) -> None:
        # Stop the publisher first (a batch it was sending goes back to the outbox), then flush.
        for task in (self._publisher, self._listener):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._outbox:
            with contextlib.suppress(RedisConnectionError, RedisTimeoutError, OSError):
                await self._send_outbox()
        await self._pubsub.aclose()
        await self._redis.aclose()

    async def subscribe(self, channel: str) -> None:
        await self._pubsub.subscribe(channel)
        self._has_subscriptions.set()

    async def unsubscribe(self, channel: str) -> None:
        await self._pubsub.unsubscribe(channel)

    async def publish(self, channel: str, message: Any) -> None:
        if len(self._outbox) >= self.MAX_OUTBOX:
            self._outbox.popleft()
            logger.warning("event bus outbox full; dropped the oldest message")
        self._outbox.append((channel, message))
        self._outbox_ready.set()

    async def _publish_queued(self) -> None:
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            while self._outbox:
                try:
                    await self._send_outbox()
                except (RedisConnectionError, RedisTimeoutError, OSError) as error:
                    logger.warning("event bus cannot publish to Redis, retrying: %s", error)
                    await asyncio.sleep(self.RECONNECT_DELAY_S)

    async def _send_outbox(self) -> None:
        batch, self._outbox = self._outbox, deque()
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for channel, message in batch:
                    pipe.publish(channel, message)
                await pipe.execute()
        except BaseException:
            # Not sent (or cancelled mid-send): back to the front, ahead of newer messages.
            batch.extend(self._outbox)
            self._outbox = batch
            while len(self._outbox) > self.MAX_OUTBOX:
                self._outbox.popleft()
            raise

    async def next_published(self) -> Event:
        return await self._queue.get()

    async def ping(self) -> None:
        await self._redis.ping()

    async def _listen(self) -> None:
        while True:
            await self._has_subscriptions.wait()
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except (RedisConnectionError, RedisTimeoutError, OSError) as error:
                # redis-py reconnects on the next read and re-subscribes every channel.
                logger.warning("event bus lost Redis, reconnecting: %s", error)
                await asyncio.sleep(self.RECONNECT_DELAY_S)
                continue
            if message is None:
                if not self._pubsub.subscribed:
                    self._has_subscriptions.clear()
                continue
            if message["type"] == "message":
                await self._queue.put(Event(channel=message["channel"], message=message["data"]))


class _Subscription:
    """One subscriber's queue on one channel; None in it means unsubscribed."""

    def __init__(self, queue: asyncio.Queue[Event | None]) -> None:
        self.queue = queue


class SafeBroadcast(Broadcast):
    """broadcaster's `Broadcast` with a subscribe that is safe for concurrent subscribers."""

    def __init__(self, url: str) -> None:
        scheme = urlsplit(url).scheme
        backend: BroadcastBackend
        if scheme in ("redis", "rediss", "unix"):
            backend = RedisPubSubBackend(url)
        elif scheme == "memory":
            backend = MemoryBackend(url)
        else:
            raise ValueError(f"unsupported event bus URL scheme {scheme!r}")
        super().__init__(backend=backend)
        self._subscribe_lock = asyncio.Lock()

    @property
    def backend(self) -> BroadcastBackend:
        return self._backend

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[_Subscription]:  # type: ignore[override]
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        async with self._subscribe_lock:
            queues = self._subscribers.setdefault(channel, set())
            queues.add(queue)
            if len(queues) == 1:
                try:
                    await self._backend.subscribe(channel)
                except BaseException:
                    del self._subscribers[channel]
                    raise
        try:
            yield _Subscription(queue)
        finally:
            async with self._subscribe_lock:
                queues = self._subscribers.get(channel, set())
                queues.discard(queue)
                if not queues:
                    self._subscribers.pop(channel, None)
                    await self._backend.unsubscribe(channel)
            await queue.put(None)


class EventBus:
    """Publish typed events and subscribe to them, on one process or across many."""

    def __init__(self, url: str, prefix: str | None = None) -> None:
        self.url = url
        # Every channel of this installation starts with it (see config.redis_namespace).
        self.namespace = redis_namespace(url, prefix)
        self._broadcast = SafeBroadcast(url)

    async def connect(self) -> None:
        await self._broadcast.connect()

    async def disconnect(self) -> None:
        await self._broadcast.disconnect()

    async def ping(self) -> None:
        """Raise if the bus cannot carry messages (Redis unreachable)."""
        backend = self._broadcast.backend
        if isinstance(backend, RedisPubSubBackend):
            await backend.ping()

    async def publish(self, event: DomainEvent) -> None:
        await self._broadcast.publish(self.namespace + event.channel(), encode_event(event))
        metrics.EVENTS_PUBLISHED.labels(kind=event.kind).inc()

    async def send(self, channel: str, message: str) -> None:
        """Publish a raw message on a channel (point-to-point traffic such as commands)."""
        await self._broadcast.publish(self.namespace + channel, message)

    @asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[MessageStream]:
        """Receive raw messages of one channel; live when this enters."""
        async with self._broadcast.subscribe(self.namespace + channel) as subscription:
            yield MessageStream(subscription.queue)

    @asynccontextmanager
    async def subscribe(self, *event_types: type[DomainEvent]) -> AsyncIterator[EventStream]:
        """Subscribe to some kinds of event; the subscription is live when this enters."""
        merged: asyncio.Queue[Event] = asyncio.Queue()
        async with AsyncExitStack() as stack:
            forwarders = []
            for event_type in event_types:
                subscription = await stack.enter_async_context(
                    self._broadcast.subscribe(self.namespace + event_type.channel())
                )
                forwarders.append(asyncio.create_task(_forward(subscription.queue, merged)))
            try:
                yield EventStream(merged, self.namespace)
            finally:
                for forwarder in forwarders:
                    forwarder.cancel()
                await asyncio.gather(*forwarders, return_exceptions=True)


async def _forward(source: asyncio.Queue[Event | None], target: asyncio.Queue[Event]) -> None:
    while (event := await source.get()) is not None:
        await target.put(event)


class MessageStream:
    """Raw messages of one channel; ends when the subscription does."""

    def __init__(self, queue: asyncio.Queue[Event | None]) -> None:
        self._queue = queue

    def __aiter__(self) -> MessageStream:
        return self

    async def __anext__(self) -> str:
        event = await self._queue.get()
        if event is None:
            raise StopAsyncIteration
        return str(event.message)


class EventStream:
    """The events of a subscription; waiting on it can be cancelled (a timeout) safely."""

    def __init__(self, queue: asyncio.Queue[Event], namespace: str) -> None:
        self._queue = queue
        self._namespace = namespace

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> DomainEvent:
        event = await self._queue.get()
        return decode_event(event.channel.removeprefix(self._namespace), event.message)
