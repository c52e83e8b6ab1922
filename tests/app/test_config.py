import asyncio
import contextlib
import os
import pty
import re
import socket
import sqlite3
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
        stdin=subprocess.DEVNULL,  # no terminal, as in a script or a container
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
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "Error: cannot migrate the database: ConnectionRefusedError: "
        f"[Errno 111] Connect call failed ('127.0.0.1', {port})"
    ]


def test_more_than_one_worker_needs_postgresql_and_redis(monkeypatch):
    monkeypatch.setenv("CPMS_WORKERS", "4")
    monkeypatch.setenv("CPMS_DATABASE_URL", "sqlite:///one.sqlite3")
    monkeypatch.setenv("CPMS_REDIS_URL", "redis://127.0.0.1:6379/0")
    with pytest.raises(SettingsError, match=r"^CPMS_WORKERS: more than one worker needs"):
        load_settings()
    monkeypatch.setenv("CPMS_DATABASE_URL", "postgresql://cpms@127.0.0.1/cpms")
    monkeypatch.delenv("CPMS_REDIS_URL")
    with pytest.raises(SettingsError, match=r"^CPMS_WORKERS: "):
        load_settings()
    monkeypatch.setenv("CPMS_REDIS_URL", "redis://127.0.0.1:6379/0")
    assert load_settings().workers == 4


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_serve_with_workers_on_sqlite_ends_with_one_line_and_status_2(tmp_path, monkeypatch):
    from tests.conftest import free_port

    monkeypatch.setenv("CPMS_WORKERS", "2")
    monkeypatch.setenv("CPMS_PORT", str(free_port()))
    result = run_cli(tmp_path, "sqlite:///cpms.sqlite3", "serve")
    assert result.returncode == 2
    assert one_error_line(result).startswith(
        "Error: CPMS_WORKERS: more than one worker needs PostgreSQL"
    )
    assert "cpms started" not in result.stderr + result.stdout
    assert not (tmp_path / "cpms.sqlite3").exists()  # refused before touching anything


def test_serve_with_redis_unreachable_ends_with_one_line_and_status_4(tmp_path, monkeypatch):
    from tests.conftest import free_port

    monkeypatch.setenv("CPMS_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setenv("CPMS_PORT", str(free_port()))
    result = run_cli(tmp_path, "sqlite:///cpms.sqlite3", "serve")
    assert result.returncode == 4
    assert one_error_line(result).startswith("Error: cannot reach Redis at CPMS_REDIS_URL: ")
    assert "cpms started" not in result.stderr + result.stdout


def test_serve_on_a_port_in_use_or_a_bad_host_ends_before_it_starts(tmp_path, monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("CPMS_PORT", str(port))
        result = run_cli(tmp_path, "sqlite:///cpms.sqlite3", "serve")
    assert result.returncode == 5
    assert one_error_line(result) == (
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
    monkeypatch.setenv("CPMS_HOST", "203.0.113.7")  # not an address of this machine
    result = run_cli(tmp_path, "sqlite:///cpms.sqlite3", "serve")
    assert result.returncode == 5
    assert "cannot listen on 203.0.113.7" in one_error_line(result)
    assert "cpms started" not in result.stderr + result.stdout


def test_migrate_counts_what_it_applies_and_undoes_only_what_it_is_told(tmp_path):
    database = f"sqlite:///{tmp_path}/cpms.sqlite3"
    first = run_cli(tmp_path, database, "migrate")
    assert first.returncode == 0 and re.search(r"\(\d+ migrations applied\)", first.stderr)
    again = run_cli(tmp_path, database, "migrate")
    assert "(0 migrations applied)" in again.stderr
    nonsense = run_cli(tmp_path, database, "migrate", "--backwards", "nonsense")
    assert nonsense.returncode == 6
    assert one_error_line(nonsense).startswith("Error: no applied migration 'nonsense'")
    # No terminal and no --yes: nothing is dropped.
    refused = run_cli(tmp_path, database, "migrate", "--backwards", "all")
    assert refused.returncode == 1
    assert "confirm with --yes" in one_error_line(refused)
    with sqlite3.connect(tmp_path / "cpms.sqlite3") as kept:
        assert kept.execute("SELECT COUNT(*) FROM charging_station").fetchone() == (0,)
    undone = run_cli(tmp_path, database, "migrate", "--backwards", "all", "--yes")
    assert undone.returncode == 0 and re.search(r"\d+ migrations undone", undone.stderr)
    with sqlite3.connect(tmp_path / "cpms.sqlite3") as emptied:
        tables = emptied.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert ("charging_station",) not in tables


def test_migrate_backwards_on_a_terminal_asks_and_no_keeps_everything(tmp_path):
    database = f"sqlite:///{tmp_path}/cpms.sqlite3"
    assert run_cli(tmp_path, database, "migrate").returncode == 0
    controller, terminal = pty.openpty()
    try:
        asking = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "migrate", "--backwards", "all"],
            env={**os.environ, "CPMS_DATABASE_URL": database},
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            cwd=tmp_path,
        )
        os.close(terminal)
        question = b""
        with contextlib.suppress(OSError):  # the terminal closes when the command ends
            while b"[y/N]" not in question:
                chunk = os.read(controller, 1024)
                if not chunk:
                    break
                question += chunk
            os.write(controller, b"n\n")
        assert asking.wait(timeout=60) == 1
    finally:
        os.close(controller)
    assert b"[y/N]" in question
    with sqlite3.connect(tmp_path / "cpms.sqlite3") as kept:
        assert kept.execute("SELECT COUNT(*) FROM charging_station").fetchone() == (0,)


async def test_migrate_backwards_is_refused_while_cpms_serve_uses_the_sqlite_database(tmp_path):
    from tests.conftest import LiveServer, free_port, until_ready

    database = f"sqlite:///{tmp_path}/cpms.sqlite3"
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        server = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "app.cli", "serve", "--port", str(port)),
            env={**os.environ, "CPMS_DATABASE_URL": database},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=tmp_path,
        )
    try:
        await until_ready(LiveServer(port, None), server, log_path)
        refused = await asyncio.to_thread(
            run_cli, tmp_path, database, "migrate", "--backwards", "all", "--yes"
        )
        assert refused.returncode == 1
        assert one_error_line(refused) == "Error: a cpms serve uses this database: stop it first"
    finally:
        server.terminate()
        await server.wait()
    with sqlite3.connect(tmp_path / "cpms.sqlite3") as kept:
        assert kept.execute("SELECT COUNT(*) FROM charging_station").fetchone() == (0,)
    undone = await asyncio.to_thread(
        run_cli, tmp_path, database, "migrate", "--backwards", "all", "--yes"
    )
    assert undone.returncode == 0, undone.stderr  # the server is gone: nothing holds it back


def test_the_station_ca_is_set_whole(monkeypatch):
    monkeypatch.setenv("CPMS_STATION_CA_CERT_FILE", "/etc/cpms/ca.pem")
    with pytest.raises(SettingsError, match=r"^CPMS_STATION_CA_CERT_FILE and .* together"):
        load_settings()


def test_serve_with_an_unusable_station_ca_ends_with_one_line(tmp_path, monkeypatch):
    from tests.conftest import free_port
    from tests.pki import make_ca, write_pem

    first, first_key = make_ca("first")
    second, second_key = make_ca("second")
    cert_file, _ = write_pem(tmp_path, "first", first, first_key)
    _, other_key_file = write_pem(tmp_path, "second", second, second_key)
    monkeypatch.setenv("CPMS_PORT", str(free_port()))
    monkeypatch.setenv("CPMS_STATION_CA_CERT_FILE", str(cert_file))
    for key_file, expected in (
        (other_key_file, "the station CA's key does not belong to its certificate"),
        (tmp_path / "missing.pem", "cannot read the station CA: [Errno 2]"),
    ):
        monkeypatch.setenv("CPMS_STATION_CA_KEY_FILE", str(key_file))
        result = run_cli(tmp_path, "sqlite:///cpms.sqlite3", "serve")
        assert result.returncode == 2
        assert one_error_line(result).startswith(f"Error: CPMS_STATION_CA_CERT_FILE: {expected}")
        assert not (tmp_path / "cpms.sqlite3").exists()


def test_client_certificates_need_tls(monkeypatch):
    monkeypatch.setenv("CPMS_TLS_CLIENT_CA_FILE", "/etc/cpms/station-ca.pem")
    with pytest.raises(SettingsError, match=r"^CPMS_TLS_CLIENT_CA_FILE: client certificates need"):
        load_settings()
    monkeypatch.setenv("CPMS_TLS_CERT_FILE", "/etc/cpms/fullchain.pem")
    with pytest.raises(SettingsError, match=r"^CPMS_TLS_CERT_FILE and CPMS_TLS_KEY_FILE"):
        load_settings()


def test_serve_with_an_unusable_tls_certificate_ends_with_one_line(tmp_path, monkeypatch):
    from tests.conftest import free_port

    monkeypatch.setenv("CPMS_PORT", str(free_port()))
    monkeypatch.setenv("CPMS_TLS_CERT_FILE", str(tmp_path / "missing.pem"))
    monkeypatch.setenv("CPMS_TLS_KEY_FILE", str(tmp_path / "missing-key.pem"))
    result = run_cli(tmp_path, "sqlite:///cpms.sqlite3", "serve")
    assert result.returncode == 2
    assert one_error_line(result).startswith("Error: CPMS_TLS_CERT_FILE: cannot use it: [Errno 2]")
    assert not (tmp_path / "cpms.sqlite3").exists()
