"""Start a `cpms serve --demo` the way a user does, wait for /readyz, log in, run one query,
load GraphiQL and one of its assets, then stop it with SIGTERM. Only the standard library:
it runs in a bare virtualenv.

    python .ci/smoke.py -- COMMAND...   (COMMAND starts the server; CPMS_PORT is set for it)
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

STARTUP_TIMEOUT_S = 300  # includes the install when the command is the README's Run line
LOGIN = (
    'mutation { login(organization: "demo", email: "viewer@demo.example", '
    'password: "cpms-demo") { ... on LoginSuccess { token } } }'
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request(url: str, body: dict | None = None, token: str | None = None) -> bytes:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is None:
        headers["Accept"] = "text/html"
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=10) as reply:
        return reply.read()


def graphql(base: str, query: str, token: str | None = None) -> dict:
    result = json.loads(request(f"{base}/graphql", {"query": query}, token))
    if result.get("errors"):
        sys.exit(f"smoke: GraphQL errors: {result['errors']}")
    return result["data"]


def main(command: list[str]) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("CPMS_")}
    env["CPMS_PORT"] = str(port)
    env["CPMS_DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='cpms-smoke-')}/cpms.sqlite3"
    server = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if server.poll() is not None:
                sys.exit(f"smoke: the server exited with status {server.returncode}")
            try:
                request(f"{base}/readyz")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    sys.exit("smoke: /readyz did not answer 200 in time")
                time.sleep(0.5)
        token = graphql(base, LOGIN)["login"]["token"]
        sites = graphql(base, "{ sites { edges { node { name } } } }", token)["sites"]["edges"]
        if not sites:
            sys.exit("smoke: the demo data has no sites")
        page = request(f"{base}/graphql").decode()
        if "https://unpkg.com" in page or "/graphql/assets/graphiql.min.js" not in page:
            sys.exit("smoke: GraphiQL does not load its own assets")
        if len(request(f"{base}/graphql/assets/graphiql.min.js")) < 100_000:
            sys.exit("smoke: GraphiQL's script is not in the package")
        print(f"smoke: ready, logged in, {len(sites)} sites, GraphiQL served", flush=True)
    finally:
        # The command may be a shell running pip and cpms: stop the whole group.
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            sys.exit("smoke: the server did not stop on SIGTERM")


if __name__ == "__main__":
    if sys.argv[1:2] != ["--"] or len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[2:])
