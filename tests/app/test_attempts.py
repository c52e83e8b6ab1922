"""Guessing is braked: an account, a station identity or a source address that failed too often
is locked out for a while, on every node (the counts live in Redis when there is one), and
refused connections do not each write a security event."""

import asyncio
import uuid
from datetime import timedelta

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from app import attempts as attempts_module
from app.attempts import FailedAttempts, Limits, RateLimited
from app.stations import service as stations
from app.timeparse import utcnow
from db.tables import SecurityEvent
from tests.conftest import basic_auth, free_port, serving

LIMITS = Limits(max_failures=3, address_max_failures=5, window_s=60, lockout_s=60)

LOGIN = """
mutation ($email: String!, $password: String!) {
  login(organization: "acme", email: $email, password: $password) {
    __typename
    ... on LoginSuccess { token }
    ... on RateLimitedError { code retryAfterS }
    ... on UserError { code message }
  }
}
"""


def unique(prefix: str) -> str:
    """Keys of this test only: Redis is shared by every test and by a second copy of the suite."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def attempts(settings):
    counter = FailedAttempts(LIMITS, settings.redis_url, unique("attempts"))
    yield counter
    await counter.close()


async def test_a_key_is_locked_after_its_limit_and_others_are_not(attempts):
    account = attempts.account("acme", unique("someone"))
    other = attempts.account("acme", unique("someone-else"))
    for _ in range(LIMITS.max_failures - 1):
        await attempts.failed(account)
        await attempts.check(account)  # not yet
    await attempts.failed(account)
    with pytest.raises(RateLimited) as locked:
        await attempts.check(account)
    assert 1 <= locked.value.retry_after_s <= LIMITS.lockout_s + 1
    assert locked.value.code == "rate_limited"
    await attempts.check(other)
    # A good credential afterwards does not lift a lock: only time does.
    await attempts.succeeded(account)
    with pytest.raises(RateLimited):
        await attempts.check(account, other)


async def test_success_forgets_the_failures_of_its_key_but_not_of_the_address(attempts):
    account = attempts.account("acme", unique("forgetful"))
    address = attempts.address("login", unique("198.51.100"))
    assert await attempts.check(account, address) == frozenset()
    for _ in range(LIMITS.max_failures - 1):
        await attempts.failed(account, address)
    # What has failures counted: only those need clearing after a success.
    assert await attempts.check(account, address) == {account.name, address.name}
    await attempts.succeeded(account)
    assert await attempts.check(account, address) == {address.name}
    await attempts.failed(account, address)  # counted from one again
    await attempts.check(account)
    for _ in range(LIMITS.address_max_failures - LIMITS.max_failures):
        await attempts.failed(address)
    with pytest.raises(RateLimited):
        await attempts.check(attempts.account("acme", unique("innocent")), address)


async def test_a_lock_ends_after_the_lockout(settings):
    brief = Limits(max_failures=1, address_max_failures=1, window_s=60, lockout_s=0.3)
    counter = FailedAttempts(brief, settings.redis_url, unique("attempts"))
    key = counter.station(unique("CP"))
    try:
        await counter.failed(key)
        with pytest.raises(RateLimited) as locked:
            await counter.check(key)
        assert locked.value.retry_after_s == 1  # rounded up, never 0
        async with asyncio.timeout(5):
            while True:
                try:
                    await counter.check(key)
                    break
                except RateLimited:
                    await asyncio.sleep(0.05)
    finally:
        await counter.close()


async def test_logins_and_stations_count_their_addresses_apart(attempts):
    logins = attempts.address("login", "192.0.2.7")
    stations_from_there = attempts.address("station", "192.0.2.7")
    assert logins is not None and stations_from_there is not None
    assert logins.name != stations_from_there.name
    assert attempts.address("login", None) is None


def test_without_redis_the_keys_followed_are_bounded(monkeypatch):
    monkeypatch.setattr(attempts_module, "MAX_TRACKED_KEYS", 100)
    counter = FailedAttempts(LIMITS, None)

    async def many() -> None:
        for number in range(1000):
            await counter.failed(counter.station(f"CP-{number}"))

    asyncio.run(many())
    assert len(counter._failures) <= 100


async def test_with_redis_away_attempts_go_through():
    counter = FailedAttempts(LIMITS, f"redis://127.0.0.1:{free_port()}/0")
    key = counter.station("CP-ANY")
    try:
        for _ in range(LIMITS.max_failures + 1):
            await counter.failed(key)
        await counter.check(key)
        await counter.succeeded(key)
    finally:
        await counter.close()


# --- The same through the running server ---


@pytest.fixture
async def strict_server(served_settings):
    """A server of its own whose lockouts come early (the suite's shared one locks nothing)."""
    update = {
        "auth_max_failures": LIMITS.max_failures,
        "auth_address_max_failures": LIMITS.address_max_failures,
        "auth_lockout_s": LIMITS.lockout_s,
        "redis_prefix": unique("lockouts"),
    }
    async with serving(served_settings.model_copy(update=update)) as server:
        yield server


async def login_from(server, address: str, email: str, password: str) -> dict:
    import httpx

    async with httpx.AsyncClient(base_url=server.http) as client:
        reply = await client.post(
            "/graphql",
            json={"query": LOGIN, "variables": {"email": email, "password": password}},
            headers={"X-Forwarded-For": address},  # uvicorn trusts its own host's proxies
        )
    assert reply.status_code == 200, reply.text
    return reply.json()["data"]["login"]


async def test_an_account_guessed_at_is_locked_out_even_for_the_right_password(
    strict_server, organization, unit_of_work
):
    from app.auth.models import Role
    from app.auth.service import provision_user

    await provision_user(unit_of_work(), "acme", "ops@acme.example", Role.OPERATOR, "right-pass")
    for number in range(LIMITS.max_failures):
        address = f"203.0.113.{number}"  # a different address each time: the account counts
        result = await login_from(strict_server, address, "ops@acme.example", "wrong")
        assert result["__typename"] == "NotAuthenticatedError"
    locked = await login_from(strict_server, "203.0.113.99", "ops@acme.example", "right-pass")
    assert locked["__typename"] == "RateLimitedError"
    assert locked["code"] == "rate_limited"
    assert 1 <= locked["retryAfterS"] <= LIMITS.lockout_s + 1
    # An account nobody guessed at logs in as before.
    await provision_user(unit_of_work(), "acme", "admin@acme.example", Role.ADMIN, "admin-pass")
    fine = await login_from(strict_server, "203.0.113.99", "admin@acme.example", "admin-pass")
    assert fine["__typename"] == "LoginSuccess"


async def test_an_address_trying_many_accounts_is_locked_out(strict_server, organization):
    address = "198.51.100.23"
    for number in range(LIMITS.address_max_failures):
        result = await login_from(strict_server, address, f"nobody{number}@acme.example", "x")
        assert result["__typename"] == "NotAuthenticatedError"
    locked = await login_from(strict_server, address, "someone.new@acme.example", "x")
    assert locked["__typename"] == "RateLimitedError"
    elsewhere = await login_from(strict_server, "198.51.100.24", "someone.new@acme.example", "x")
    assert elsewhere["__typename"] == "NotAuthenticatedError"


async def open_station(server, identity: str, password: str | None, address: str) -> None:
    headers = {"X-Forwarded-For": address}
    if password is not None:
        headers.update(basic_auth(identity, password))
    async with connect(
        f"{server.ws}/ocpp/{identity}",
        subprotocols=[Subprotocol("ocpp1.6")],
        additional_headers=headers,
    ):
        pass


async def test_a_station_identity_guessed_at_is_told_to_retry_later(strict_server, register):
    await register("CP-GUARDED", password="a-long-machine-made-secret")
    for number in range(LIMITS.max_failures):
        with pytest.raises(InvalidStatus) as refused:
            await open_station(strict_server, "CP-GUARDED", "guess", f"203.0.113.{number}")
        assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as locked:
        await open_station(strict_server, "CP-GUARDED", "a-long-machine-made-secret", "203.0.113.9")
    assert locked.value.response.status_code == 429
    assert 1 <= int(locked.value.response.headers["Retry-After"]) <= LIMITS.lockout_s + 1
    # Each wrong password is an event of the station's, counted on one row.
    [event] = await SecurityEvent.select().where(SecurityEvent.identity == "CP-GUARDED")
    assert event["type"] == "InvalidCredentials" and event["repeats"] == LIMITS.max_failures


async def test_unknown_identities_from_one_address_are_locked_out_and_written_once(
    strict_server, organization
):
    for number in range(LIMITS.address_max_failures):
        with pytest.raises(InvalidStatus) as refused:
            await open_station(strict_server, f"CP-RANDOM-{number}", None, "192.0.2.200")
        assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as locked:
        await open_station(strict_server, "CP-RANDOM-LAST", None, "192.0.2.200")
    assert locked.value.response.status_code == 429
    [event] = await SecurityEvent.select().where(SecurityEvent.type == "UnknownStation")
    assert event["repeats"] == LIMITS.address_max_failures
    assert event["identity"] == "CP-RANDOM-0"
    assert f"latest: CP-RANDOM-{LIMITS.address_max_failures - 1}" in event["tech_info"]


async def test_security_events_are_kept_for_their_retention_only(organization):
    now = utcnow()
    await SecurityEvent.insert(
        SecurityEvent(
            identity="CP-OLD", type="X", source="server", occurred_at=now - timedelta(days=91)
        ),
        SecurityEvent(
            identity="CP-NEW", type="X", source="server", occurred_at=now - timedelta(days=89)
        ),
    )
    assert await stations.prune_security_events(timedelta(days=90)) == 1
    left = await SecurityEvent.select(SecurityEvent.identity)
    assert left == [{"identity": "CP-NEW"}]
