"""`cpms serve` as a user runs it: a subprocess on a free port, stopped with SIGTERM."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.demo import DEMO_PASSWORD
from tests.conftest import free_port

LOGIN = """
mutation ($email: String!, $password: String!) {
  login(organization: "demo", email: $email, password: $password) {
    ... on LoginSuccess { token }
  }
}
"""
STARTUP_TIMEOUT_S = 60
SHUTDOWN_TIMEOUT_S = 10


def wait_until_ready(base_url: str, process: subprocess.Popen) -> httpx.Response:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            response = httpx.get(f"{base_url}/readyz", timeout=2)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail("server did not become ready")


@pytest.fixture
def server_env(settings, tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CPMS_")}
    if settings.is_sqlite:
        # A fresh file: start-up must create and migrate it.
        env["CPMS_DATABASE_URL"] = f"sqlite:///{tmp_path}/fresh.sqlite3"
    else:
        env["CPMS_DATABASE_URL"] = settings.database_url
    if settings.redis_url:
        env["CPMS_REDIS_URL"] = settings.redis_url
    env["CPMS_LOG_FORMAT"] = "json"
    return env


def test_cpms_serve_starts_answers_and_stops_cleanly(server_env, tmp_path, database):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--demo"],
        env=server_env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        ready = wait_until_ready(base_url, process)
        assert ready.json() == {"status": "ready", "database": "ok", "bus": "ok"}
        assert httpx.get(f"{base_url}/healthz").json()["status"] == "alive"
        login = httpx.post(
            f"{base_url}/graphql",
            json={
                "query": LOGIN,
                "variables": {"email": "viewer@demo.example", "password": DEMO_PASSWORD},
            },
        ).json()
        token = login["data"]["login"]["token"]
        result = httpx.post(
            f"{base_url}/graphql",
            json={"query": '{ station(identity: "DEMO-HAM-DC-01") { vendor connectors { id } } }'},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert result["data"]["station"]["vendor"] == "Alpitronic"
        assert len(result["data"]["station"]["connectors"]) == 2
        metrics = httpx.get(f"{base_url}/metrics")
        assert "cpms_ocpp_connections" in metrics.text
        assert metrics.headers["content-type"].startswith("text/plain")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail("cpms serve did not stop within 10 s of SIGTERM")
    _stdout, stderr = process.communicate()
    # uvicorn finishes its graceful shutdown, then re-raises the signal it caught, so the exit
    # status says "ended by SIGTERM" as process supervisors expect.
    assert process.returncode in (0, -signal.SIGTERM), stderr
    assert "Traceback" not in stderr
    assert '"message": "cpms stopped"' in stderr
    if server_env["CPMS_DATABASE_URL"].startswith("sqlite"):
        assert (tmp_path / "fresh.sqlite3").exists()
