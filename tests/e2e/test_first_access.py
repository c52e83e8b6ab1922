"""docs/operations.md "First access", run verbatim on a fresh database, then used: the admin
logs in, the API key reads, the station connects with its printed password, the card charges."""

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from ocpp.v16 import ChargePoint, call
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tests.conftest import basic_auth, free_port
from tests.e2e.test_startup import wait_until_ready

STATIONS = "{ stations { edges { node { identity securityProfile insecure } } } }"
OPERATIONS = Path(__file__).parents[2] / "docs" / "operations.md"


def first_access_commands() -> list[str]:
    section = OPERATIONS.read_text().split("## First access", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block, "no command block under First access"
    return [line for line in block.group(1).splitlines() if line.strip()]


def fresh_environment(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CPMS_")}
    env["CPMS_DATABASE_URL"] = f"sqlite:///{tmp_path}/first.sqlite3"
    env["CPMS_LOG_FORMAT"] = "json"
    # `cpms` as installed beside the interpreter running the tests.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run_first_access(env: dict[str, str], cwd: Path) -> str:
    """Each command of the section, as a user pastes it; what they printed."""
    outputs = []
    for command in first_access_commands():
        done = subprocess.run(
            ["bash", "-c", command],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        outputs.append(done.stdout)
    return "\n".join(outputs)


def start_server(env: dict[str, str], cwd: Path, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until_ready(f"http://127.0.0.1:{port}", server)
    return server


async def test_first_access_works_verbatim_on_a_fresh_database(tmp_path):
    env = fresh_environment(tmp_path)
    text = run_first_access(env, tmp_path)
    api_key = re.search(r"^(cpms_key_\S+)$", text, re.MULTILINE)
    password = re.search(r"^password: (\S+)$", text, re.MULTILINE)
    assert api_key and password, text
    admin = re.search(
        r"cpms user add (\S+) .*--password '([^']+)'", "\n".join(first_access_commands())
    )
    assert admin
    admin_email, admin_password = admin.groups()

    port = free_port()
    server = start_server(env, tmp_path, port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            login = (
                await client.post(
                    "/graphql",
                    json={
                        "query": "mutation ($e: String!, $p: String!) { login(organization: "
                        '"acme", email: $e, password: $p) { ... on LoginSuccess { token } } }',
                        "variables": {"e": admin_email, "p": admin_password},
                    },
                )
            ).json()
            token = login["data"]["login"]["token"]
            me = (
                await client.post(
                    "/graphql",
                    json={"query": "{ viewer { role organization { slug countryCode partyId } } }"},
                    headers={"Authorization": f"Bearer {token}"},
                )
            ).json()
            assert me["data"]["viewer"] == {
                "role": "ADMIN",
                "organization": {"slug": "acme", "countryCode": "DE", "partyId": "ACM"},
            }
            stations = (
                await client.post(
                    "/graphql",
                    json={"query": STATIONS},
                    headers={"Authorization": f"Bearer {api_key.group(1)}"},
                )
            ).json()
        assert stations["data"]["stations"]["edges"] == [
            {"node": {"identity": "ACME-0001", "securityProfile": 1, "insecure": False}}
        ]
        async with connect(
            f"ws://127.0.0.1:{port}/ocpp/ACME-0001",
            subprotocols=[Subprotocol("ocpp1.6")],
            additional_headers=basic_auth("ACME-0001", password.group(1)),
        ) as websocket:
            station = ChargePoint("ACME-0001", websocket)
            listening = asyncio.create_task(station.start())
            boot = await station.call(
                call.BootNotification(charge_point_vendor="V", charge_point_model="M")
            )
            assert boot.status == "Accepted"
            card = await station.call(call.Authorize(id_tag="04E1A2B3C4D5E6"))
            assert card.id_tag_info["status"] == "Accepted"
            listening.cancel()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)
