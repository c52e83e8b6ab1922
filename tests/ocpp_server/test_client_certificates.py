"""Security profile 3: a station connects over TLS with a client certificate whose common name
is its identity, the certificate it had the CSMS sign. A real uvicorn server terminating TLS,
real OCPP clients with real client certificates."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from ocpp.v16 import call as call16
from websockets.exceptions import InvalidMessage, InvalidStatus

from db.tables import SecurityEvent
from tests.conftest import charger, graphql, serving
from tests.ocpp_server.test_certificate_signing import Station16, signing_request
from tests.ocpp_server.test_commands import booted
from tests.pki import issue, make_ca, write_pem

pytestmark = pytest.mark.usefixtures("clean_db")

PASSWORD = "a-machine-made-secret-20"

UPDATE_PROFILE = """
mutation ($identity: String!, $profile: Int!) {
  updateStation(identity: $identity, input: {securityProfile: $profile}) {
    ... on StationSaved { station { securityProfile } }
    ... on UserError { code message }
  }
}
"""


@pytest.fixture(scope="module")
def server_pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The server's certificate for 127.0.0.1, and the CA stations trust it by."""
    folder = tmp_path_factory.mktemp("server-pki")
    ca, ca_key = make_ca("Acme Server CA")
    ca_file, _ = write_pem(folder, "server-ca", ca, ca_key)
    certificate, key = issue(ca, ca_key, "127.0.0.1", server=True)
    cert_file, key_file = write_pem(folder, "server", certificate, key)
    return {"ca": ca_file, "cert": cert_file, "key": key_file, "folder": folder}


def tls_settings(served_settings: Any, server_pki: dict[str, Path], client_ca: Path) -> Any:
    return served_settings.model_copy(
        update={
            "tls_cert_file": server_pki["cert"],
            "tls_key_file": server_pki["key"],
            "tls_client_ca_file": client_ca,
        }
    )


def station_tls(server_pki: dict[str, Path], chain: Path | None = None, key: Path | None = None):
    """What a station's TLS stack holds: the CA it trusts the server by and, for profile 3,
    its certificate chain and key."""
    context = ssl.create_default_context(cafile=server_pki["ca"])
    if chain is not None:
        context.load_cert_chain(chain, key)
    return context


async def refusal_reason(identity: str) -> str:
    [event] = await SecurityEvent.select(SecurityEvent.tech_info).where(
        (SecurityEvent.identity == identity) & (SecurityEvent.type == "InvalidCredentials")
    )
    return str(event["tech_info"])


async def test_a_station_connects_with_the_certificate_it_had_signed(
    live_server, served_settings, server_pki, station_ca, register, api_key, tmp_path
):
    identity = "CP-PROFILE-3"
    await register(identity, password=PASSWORD)
    # Over its password first (profile 1), the station has its certificate signed.
    async with charger(live_server, identity, password=PASSWORD, client_class=Station16) as client:
        await booted(client, "ocpp1.6")
        key, csr = signing_request(identity)
        assert (await client.call(call16.SignCertificate(csr=csr))).status == "Accepted"
        chain, _ = await asyncio.wait_for(client.chains.get(), 10)
    chain_file, key_file = write_pem(tmp_path, identity, chain, key)
    admin = await api_key()
    changed = await graphql(
        live_server, UPDATE_PROFILE, {"identity": identity, "profile": 3}, admin
    )
    assert changed["data"]["updateStation"]["station"] == {"securityProfile": 3}

    _, station_ca_file, _ = station_ca
    async with serving(tls_settings(served_settings, server_pki, station_ca_file)) as server:
        # Its certificate is all it needs: no password.
        async with charger(
            server, identity, tls=station_tls(server_pki, chain_file, key_file)
        ) as client:
            boot = await client.call(
                call16.BootNotification(charge_point_vendor="A", charge_point_model="B")
            )
            assert boot.status == "Accepted"
        # Without a certificate, its password no longer lets it in.
        with pytest.raises(InvalidStatus) as refused:
            async with charger(server, identity, password=PASSWORD, tls=station_tls(server_pki)):
                pass
        assert refused.value.response.status_code == 403
    assert await refusal_reason(identity) == "no client certificate"


async def test_a_certificate_issued_to_another_station_is_refused(
    served_settings, server_pki, station_ca, register, tmp_path
):
    ca, ca_cert_file, ca_key_file = station_ca
    ca_key = serialization.load_pem_private_key(ca_key_file.read_bytes(), password=None)
    other, other_key = issue(ca, ca_key, "CP-SOMEONE-ELSE")
    chain_file, key_file = write_pem(tmp_path, "other", other, other_key)
    await register("CP-VICTIM", profile=3)
    async with serving(tls_settings(served_settings, server_pki, ca_cert_file)) as server:
        with pytest.raises(InvalidStatus) as refused:
            async with charger(
                server, "CP-VICTIM", tls=station_tls(server_pki, chain_file, key_file)
            ):
                pass
    assert refused.value.response.status_code == 403
    assert await refusal_reason("CP-VICTIM") == "client certificate issued to 'CP-SOMEONE-ELSE'"


async def test_profile_2_stations_share_the_server_without_a_certificate(
    served_settings, server_pki, station_ca, register
):
    await register("CP-PROFILE-2", password=PASSWORD, profile=2)
    _, ca_cert_file, _ = station_ca
    async with (
        serving(tls_settings(served_settings, server_pki, ca_cert_file)) as server,
        charger(server, "CP-PROFILE-2", password=PASSWORD, tls=station_tls(server_pki)) as client,
    ):
        await booted(client, "ocpp1.6")


async def test_a_certificate_from_another_ca_fails_the_handshake(
    served_settings, server_pki, station_ca, register, tmp_path
):
    stranger, stranger_key = make_ca("Stranger CA")
    forged, forged_key = issue(stranger, stranger_key, "CP-FORGED")
    chain_file, key_file = write_pem(tmp_path, "forged", forged, forged_key)
    await register("CP-FORGED", profile=3)
    _, ca_cert_file, _ = station_ca
    async with serving(tls_settings(served_settings, server_pki, ca_cert_file)) as server:
        # TLS 1.3 checks a client's certificate after the client's side of the handshake
        # ended: the server's alert ends the connection before any HTTP answer.
        with pytest.raises((ssl.SSLError, ConnectionError, InvalidMessage)):
            async with charger(
                server, "CP-FORGED", tls=station_tls(server_pki, chain_file, key_file)
            ):
                pass


async def test_a_profile_3_station_is_created_without_a_password(
    live_server, organization, api_key
):
    created = await graphql(
        live_server,
        """mutation { createStation(identity: "CP-CERT-ONLY", input: {securityProfile: 3}) {
            ... on StationSaved { station { securityProfile insecure } password } } }""",
        token=await api_key(),
    )
    assert created["data"]["createStation"] == {
        "station": {"securityProfile": 3, "insecure": False},
        "password": None,
    }
