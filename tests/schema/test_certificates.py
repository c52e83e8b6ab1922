"""Which certificates a station trusts: install, list and delete them through the API, in
either version (1.6 with its security extension). Real `ocpp` clients, real server."""

from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import ChargePoint as Client16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as Client201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

from tests.conftest import graphql
from tests.ocpp_server.test_commands import booted

ROOT = "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"
HASH = {
    "hash_algorithm": "SHA256",
    "issuer_name_hash": "a" * 64,
    "issuer_key_hash": "b" * 64,
    "serial_number": "1f2e",
}
OUTCOME = """
    __typename
    ... on CommandAccepted { stationStatus data }
    ... on UserError { code message }
"""
INSTALL = (
    "mutation ($identity: String!, $type: CertificateUse!, $pem: String!) { installCertificate("
    "identity: $identity, certificateType: $type, certificate: $pem) {" + OUTCOME + "} }"
)
LIST = (
    "mutation ($identity: String!, $types: [CertificateUse!]) { getInstalledCertificates("
    "identity: $identity, certificateTypes: $types) {" + OUTCOME + "} }"
)
DELETE = (
    "mutation ($identity: String!) { deleteCertificate(identity: $identity,"
    ' hashAlgorithm: "SHA256", issuerNameHash: "'
    + "a" * 64
    + '", issuerKeyHash: "'
    + "b" * 64
    + '", serialNumber: "1f2e") {'
    + OUTCOME
    + "} }"
)


class Station201(Client201):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.installed: list[tuple[str, str]] = []
        self.deleted: list[dict[str, str]] = []

    @on(Action201.install_certificate)
    def install(self, certificate_type: str, certificate: str, **_: Any) -> Any:
        self.installed.append((certificate_type, certificate))
        return result201.InstallCertificate(status="Accepted")

    @on(Action201.get_installed_certificate_ids)
    def installed_ids(self, **_: Any) -> Any:
        return result201.GetInstalledCertificateIds(
            status="Accepted",
            certificate_hash_data_chain=[
                {"certificate_type": "CSMSRootCertificate", "certificate_hash_data": HASH}
            ],
        )

    @on(Action201.delete_certificate)
    def delete(self, certificate_hash_data: dict[str, str], **_: Any) -> Any:
        self.deleted.append(certificate_hash_data)
        return result201.DeleteCertificate(status="Accepted")


class Station16(Client16):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.installed: list[tuple[str, str]] = []

    @on(Action16.install_certificate)
    def install(self, certificate_type: str, certificate: str, **_: Any) -> Any:
        self.installed.append((certificate_type, certificate))
        return result16.InstallCertificate(status="Accepted")

    @on(Action16.get_installed_certificate_ids)
    def installed_ids(self, certificate_type: str, **_: Any) -> Any:
        return result16.GetInstalledCertificateIds(status="Accepted", certificate_hash_data=[HASH])


CAMEL_HASH = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "a" * 64,
    "issuerKeyHash": "b" * 64,
    "serialNumber": "1f2e",
}


@pytest.mark.parametrize(
    ("protocol", "client_class", "sent_type"),
    [
        ("ocpp2.0.1", Station201, "CSMSRootCertificate"),
        ("ocpp1.6", Station16, "CentralSystemRootCertificate"),
    ],
)
async def test_an_admin_installs_lists_and_deletes_a_stations_certificates(
    protocol, client_class, sent_type, register, connect_charger, live_server, api_key
):
    admin = await api_key()
    identity = f"CP-CERT-{protocol[-3:]}"
    await register(identity)
    async with connect_charger(identity, protocol, client_class=client_class) as station:
        await booted(station, protocol)
        installed = await graphql(
            live_server,
            INSTALL,
            {"identity": identity, "type": "CSMS_ROOT_CERTIFICATE", "pem": ROOT},
            admin,
        )
        listed = await graphql(
            live_server, LIST, {"identity": identity, "types": ["CSMS_ROOT_CERTIFICATE"]}, admin
        )
    assert installed["data"]["installCertificate"]["__typename"] == "CommandAccepted"
    assert station.installed == [(sent_type, ROOT)]
    assert listed["data"]["getInstalledCertificates"]["data"] == {
        "certificates": [{"certificateType": "CSMSRootCertificate", **CAMEL_HASH}]
    }


async def test_deleting_needs_an_admin_and_sends_the_hash_data(
    register, connect_charger, live_server, api_key
):
    operator, admin = await api_key(role="operator"), await api_key()
    await register("CP-CERT-DEL")
    async with connect_charger("CP-CERT-DEL", "ocpp2.0.1", client_class=Station201) as station:
        await booted(station, "ocpp2.0.1")
        refused = await graphql(live_server, DELETE, {"identity": "CP-CERT-DEL"}, operator)
        deleted = await graphql(live_server, DELETE, {"identity": "CP-CERT-DEL"}, admin)
        wrong = await graphql(
            live_server,
            INSTALL,
            {"identity": "CP-CERT-DEL", "type": "CSMS_ROOT_CERTIFICATE", "pem": "not a cert"},
            admin,
        )
    assert refused["data"]["deleteCertificate"]["__typename"] == "NotPermittedError"
    assert deleted["data"]["deleteCertificate"]["__typename"] == "CommandAccepted"
    assert station.deleted == [HASH]
    assert wrong["data"]["installCertificate"]["__typename"] == "InvalidInputError"
    assert wrong["data"]["installCertificate"]["message"].startswith("certificate:")
