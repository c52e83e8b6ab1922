"""An operator with its roaming identity, and a test eMSP connected to it over OCPI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from db.tables import Organization
from tests.conftest import TEST_ORGANIZATION, graphql
from tests.ocpi.emsp import Emsp

CREATE = """
mutation ($input: CreatePartnerInput!) { createPartner(input: $input) {
  __typename
  ... on PartnerCreated { tokenA versionsUrl partner { id status countryCode partyId roles } }
  ... on UserError { code message } } }
"""


@pytest.fixture
async def cpo(organization) -> int:
    """The test operator, with its roaming identity DE*ACM."""
    await Organization.update(
        {Organization.country_code: "DE", Organization.party_id: "ACM"}
    ).where(Organization.slug == TEST_ORGANIZATION)
    return organization


@pytest.fixture
async def emsp() -> AsyncIterator[Emsp]:
    partner = Emsp()
    await partner.start()
    yield partner
    await partner.stop()


async def create_partner(live_server, admin: str, **fields) -> dict:
    given = {"name": "Test Mobility", "countryCode": "NL", "partyId": "TNM", **fields}
    result = await graphql(live_server, CREATE, {"input": given}, admin)
    return result["data"]["createPartner"]


@dataclass
class Connected:
    emsp: Emsp
    token: str  # what the eMSP calls us with (token C)
    base: str  # our OCPI 2.2.1 base URL
    partner_id: str


@pytest.fixture
async def connected(live_server, cpo, api_key, emsp) -> Connected:
    """The test eMSP, registered with the test operator (it called first)."""
    admin = await api_key(TEST_ORGANIZATION, "admin")
    created = await create_partner(live_server, admin)
    ours = await emsp.register_with(created["versionsUrl"], created["tokenA"])
    return Connected(
        emsp, ours["token"], f"{live_server.http}/ocpi/2.2.1", created["partner"]["id"]
    )
