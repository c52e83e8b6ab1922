"""A station asks for its client certificate (SignCertificate) and gets it signed by the CA
the operator configured (CertificateSigned), on 2.0.1 and on 1.6 with the security extension.
Real OCPP clients over a real websocket to a real server."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

from app.timeparse import utcnow
from db.tables import CommandLog
from tests.conftest import charger, serving
from tests.ocpp_server.test_commands import booted
from tests.ocpp_server.test_healing_offline import eventually

pytestmark = pytest.mark.usefixtures("clean_db")


class Station201(ChargePoint201):
    """Keeps the certificate chains it is sent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chains: asyncio.Queue[tuple[str, str | None]] = asyncio.Queue()

    @on(Action201.certificate_signed)
    async def on_certificate_signed(
        self, certificate_chain: str, certificate_type: str | None = None, **_: Any
    ) -> result201.CertificateSigned:
        self.chains.put_nowait((certificate_chain, certificate_type))
        return result201.CertificateSigned(status="Accepted")


class Station16(ChargePoint16):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chains: asyncio.Queue[tuple[str, str | None]] = asyncio.Queue()

    @on(Action16.certificate_signed)
    async def on_certificate_signed(
        self, certificate_chain: str, **_: Any
    ) -> result16.CertificateSigned:
        self.chains.put_nowait((certificate_chain, None))
        return result16.CertificateSigned(status="Accepted")


def signing_request(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme Charging"),
                ]
            )
        )
        .sign(key, hashes.SHA256())
    )
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


def assert_signed_for(chain: str, identity: str, key: Any, ca: x509.Certificate) -> None:
    leaf, *rest = x509.load_pem_x509_certificates(chain.encode())
    assert rest == [ca]  # the CA's certificate follows the station's
    leaf.verify_directly_issued_by(ca)
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == identity
    assert leaf.public_key() == key.public_key()
    usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    lifetime = leaf.not_valid_after_utc - utcnow()
    assert timedelta(days=29) < lifetime <= timedelta(days=30)


async def sent_commands(identity: str) -> list[dict[str, Any]]:
    return await CommandLog.select(CommandLog.action, CommandLog.status, CommandLog.actor).where(
        CommandLog.station.identity == identity
    )


async def _is(rows: Any, expected: list[dict[str, Any]]) -> bool:
    return await rows == expected


async def test_a_201_station_gets_its_certificate_signed(live_server, register, station_ca):
    ca, _, _ = station_ca
    await register("CERT-201")
    async with charger(live_server, "CERT-201", "ocpp2.0.1", client_class=Station201) as client:
        await booted(client, "ocpp2.0.1")
        key, csr = signing_request("CERT-201")
        answer = await client.call(
            call201.SignCertificate(csr=csr, certificate_type="ChargingStationCertificate")
        )
        assert answer.status == "Accepted"
        chain, certificate_type = await asyncio.wait_for(client.chains.get(), 10)
    assert certificate_type == "ChargingStationCertificate"
    assert_signed_for(chain, "CERT-201", key, ca)
    answered = {"action": "certificate_signed", "status": "accepted", "actor": "system"}
    assert await eventually(lambda: _is(sent_commands("CERT-201"), [answered]))


async def test_a_16_station_gets_its_certificate_signed(live_server, register, station_ca):
    ca, _, _ = station_ca
    await register("CERT-16")
    async with charger(live_server, "CERT-16", "ocpp1.6", client_class=Station16) as client:
        await booted(client, "ocpp1.6")
        key, csr = signing_request("CERT-16")
        answer = await client.call(call16.SignCertificate(csr=csr))
        assert answer.status == "Accepted"
        chain, _ = await asyncio.wait_for(client.chains.get(), 10)
    assert_signed_for(chain, "CERT-16", key, ca)


@pytest.mark.parametrize(
    ("common_name", "certificate_type", "reason_code"),
    [
        ("CERT-OTHER", "ChargingStationCertificate", "InvalidCSR"),  # another station's name
        ("CERT-BAD", "V2GCertificate", "NotSupported"),  # the V2G PKI signs those
    ],
)
async def test_a_request_we_do_not_sign_is_rejected_and_nothing_is_sent(
    live_server, register, common_name, certificate_type, reason_code
):
    await register("CERT-BAD")
    async with charger(live_server, "CERT-BAD", "ocpp2.0.1", client_class=Station201) as client:
        await booted(client, "ocpp2.0.1")
        _, csr = signing_request(common_name)
        answer = await client.call(
            call201.SignCertificate(csr=csr, certificate_type=certificate_type)
        )
    assert answer.status == "Rejected"
    assert answer.status_info["reason_code"] == reason_code
    assert await sent_commands("CERT-BAD") == []


async def test_a_broken_request_is_rejected(live_server, register):
    await register("CERT-BROKEN")
    _, csr = signing_request("CERT-BROKEN")
    tampered = csr.replace(csr.splitlines()[3][:8], "AAAAAAAA", 1)
    async with charger(live_server, "CERT-BROKEN", "ocpp2.0.1") as client:
        await booted(client, "ocpp2.0.1")
        for bad in ("not a request", tampered):
            answer = await client.call(call201.SignCertificate(csr=bad))
            assert (answer.status, answer.status_info["reason_code"]) == ("Rejected", "InvalidCSR")


async def test_without_a_ca_requests_are_rejected(served_settings, register):
    no_ca = {"station_ca_cert_file": None, "station_ca_key_file": None}
    await register("CERT-NOCA")
    async with (
        serving(served_settings.model_copy(update=no_ca)) as server,
        charger(server, "CERT-NOCA", "ocpp2.0.1") as client,
    ):
        await booted(client, "ocpp2.0.1")
        _, csr = signing_request("CERT-NOCA")
        answer = await client.call(call201.SignCertificate(csr=csr))
    assert (answer.status, answer.status_info["reason_code"]) == ("Rejected", "NotSupported")
