import os
import subprocess
import sys

import pytest

from app.config import SettingsError, load_settings


def test_defaults_are_the_embedded_deployment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("CPMS_"):
            monkeypatch.delenv(name)
    settings = load_settings()
    assert settings.database_url == "sqlite:///cpms.sqlite3"
    assert settings.is_sqlite
    assert str(settings.sqlite_path) == "cpms.sqlite3"
    assert settings.bus_url == "memory://"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_environment_configures_postgres_and_redis(monkeypatch):
    monkeypatch.setenv("CPMS_DATABASE_URL", "postgresql://cpms:secret@db.internal:5433/cpms")
    monkeypatch.setenv("CPMS_REDIS_URL", "redis://cache.internal:6379/2")
    monkeypatch.setenv("CPMS_PORT", "9000")
    settings = load_settings()
    assert not settings.is_sqlite
    assert settings.bus_url == "redis://cache.internal:6379/2"
    assert settings.port == 9000


def test_absolute_sqlite_path(monkeypatch):
    monkeypatch.setenv("CPMS_DATABASE_URL", "sqlite:////var/lib/cpms/cpms.sqlite3")
    assert str(load_settings().sqlite_path) == "/var/lib/cpms/cpms.sqlite3"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("CPMS_DATABASE_URL", "mysql://localhost/cpms", "unsupported scheme 'mysql'"),
        ("CPMS_DATABASE_URL", "postgresql://localhost:70000/cpms", "Port out of range"),
        ("CPMS_DATABASE_URL", "postgresql:///cpms", "needs a host"),
        ("CPMS_DATABASE_URL", "sqlite://", "needs a file path"),
        ("CPMS_REDIS_URL", "http://localhost:6379", "unsupported scheme 'http'"),
        ("CPMS_REDIS_URL", "redis://localhost:0", "port 0"),
        ("CPMS_PORT", "0", "greater than or equal to 1"),
        ("CPMS_PORT", "65536", "less than or equal to 65535"),
        ("CPMS_PORT", "eighty", "valid integer"),
        ("CPMS_LOG_LEVEL", "loud", "'debug', 'info', 'warning' or 'error'"),
        ("CPMS_NODE_ID", "node 1/2", "should match pattern"),
        ("CPMS_DB_POOL_MIN_SIZE", "50", "must not exceed"),
        ("CPMS_OCPP_PING_INTERVAL_S", "1", "greater than or equal to 5"),
    ],
)
def test_invalid_value_names_the_variable(monkeypatch, variable, value, expected):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith(f"{variable}: ")
    assert expected in message
    assert "\n" not in message


def run_cli(tmp_path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, "CPMS_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )


def test_cli_reports_a_bad_setting_in_one_line(tmp_path):
    result = run_cli(tmp_path, "oracle://db/cpms", "serve")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "Error: CPMS_DATABASE_URL: unsupported scheme 'oracle'; "
        "use sqlite:///path or postgresql://host/db"
    ]


def test_cli_reports_an_unreachable_database_in_one_line(tmp_path):
    from tests.conftest import free_port

    port = free_port()
    result = run_cli(tmp_path, f"postgresql://cpms@127.0.0.1:{port}/cpms", "migrate")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "Error: cannot migrate the database: ConnectionRefusedError: "
        f"[Errno 111] Connect call failed ('127.0.0.1', {port})"
    ]
