"""One organization can never read another's rows, through any type, list or lookup."""

import pytest
from strawberry import relay

from app.timeparse import utcnow
from db.tables import (
    Alert,
    ApiKey,
    Cdr,
    ChargingProfile,
    ChargingSession,
    ChargingStation,
    CommandLog,
    Connector,
    Evse,
    IdToken,
    Organization,
    Partner,
    Payment,
    Reservation,
    Site,
    Tariff,
    User,
)
from tests.conftest import TEST_ORGANIZATION, graphql

LISTS = """
{
  sites { edges { node { name } } }
  stations { edges { node { identity } } }
  sessions { edges { node { transactionId } } }
  idTokens { edges { node { uid } } }
  users { edges { node { email } } }
  apiKeys { edges { node { name } } }
  alerts { edges { node { kind } } }
  reservations { edges { node { idTag } } }
  cdrs { edges { node { code } } }
  payments { edges { node { status } } }
  partners { edges { node { name } } }
  tariffs { edges { node { code } } }
  dashboard { stations { total } sessions { active started } }
}
"""


@pytest.fixture
async def ours(organization, api_key) -> dict[str, str]:
    """One row of each type in our organization; their global ids."""
    site = Site(organization=organization, name="Our site")
    await site.save()
    station = ChargingStation(organization=organization, site=site.id, identity="OURS-01")
    await station.save()
    evse = Evse(station=station.id, evse_id=1)
    await evse.save()
    connector = Connector(station=station.id, evse=evse.id, connector_id=1)
    await connector.save()
    session = ChargingSession(
        organization=organization,
        station=station.id,
        evse=evse.id,
        connector=connector.id,
        transaction_id="OUR-TX",
        started_at=utcnow(),
    )
    await session.save()
    token = IdToken(organization=organization, uid="OUR-CARD")
    await token.save()
    user = User(organization=organization, email="ours@example.com", role="driver")
    await user.save()
    command = CommandLog(organization=organization, station=station.id, action="reset")
    await command.save()
    reservation = Reservation(
        organization=organization,
        station=station.id,
        reservation_id=1,
        id_tag="OUR-CARD",
        expires_at=utcnow(),
    )
    await reservation.save()
    profile = ChargingProfile(
        organization=organization, station=station.id, profile_id=1, purpose="TxDefaultProfile"
    )
    await profile.save()
    cdr = Cdr(
        organization=organization,
        session=session.id,
        code="OUR-CDR",
        currency="EUR",
        started_at=utcnow(),
        ended_at=utcnow(),
    )
    await cdr.save()
    payment = Payment(
        organization=organization,
        session=session.id,
        cdr=cdr.id,
        user=user.id,
        provider_payment_id="pi_ours",
        currency="EUR",
    )
    await payment.save()
    partner = Partner(organization=organization, name="Our eMSP", country_code="DE", party_id="OUR")
    await partner.save()
    tariff = Tariff(organization=organization, code="OURS", name="Ours", currency="EUR")
    await tariff.save()
    alert = Alert(
        organization=organization, station=station.id, kind="station_offline", dedupe_key="x"
    )
    await alert.save()
    await api_key(TEST_ORGANIZATION, "admin")
    key = await ApiKey.select(ApiKey.id).where(ApiKey.organization == organization).first()
    assert key is not None
    rows = {
        "Organization": organization,
        "Evse": evse.id,
        "CommandLog": command.id,
        "Reservation": reservation.id,
        "ChargingProfile": profile.id,
        "Cdr": cdr.id,
        "Payment": payment.id,
        "Partner": partner.id,
        "Tariff": tariff.id,
    }
    return {
        **{name: str(relay.GlobalID(name, str(row_id))) for name, row_id in rows.items()},
        "User": str(relay.GlobalID("User", str(user.id))),
        "Alert": str(relay.GlobalID("Alert", str(alert.id))),
        "ApiKey": str(relay.GlobalID("ApiKey", str(key["id"]))),
        "Site": str(relay.GlobalID("Site", str(site.id))),
        "ChargingStation": str(relay.GlobalID("ChargingStation", str(station.id))),
        "Connector": str(relay.GlobalID("Connector", str(connector.id))),
        "ChargingSession": str(relay.GlobalID("ChargingSession", str(session.id))),
        "IdToken": str(relay.GlobalID("IdToken", str(token.id))),
    }


@pytest.fixture
async def theirs(api_key) -> str:
    await Organization.insert(Organization(name="Other CPO", slug="other"))
    return await api_key("other", "admin")


NODE_TYPES = [
    "Organization",
    "Site",
    "ChargingStation",
    "Evse",
    "Connector",
    "ChargingSession",
    "IdToken",
    "User",
    "ApiKey",
    "Alert",
    "CommandLog",
    "Reservation",
    "ChargingProfile",
    "Cdr",
    "Payment",
    "Partner",
    "Tariff",
]
NODE = "query ($id: ID!) { node(id: $id) { id __typename } }"


@pytest.mark.parametrize("type_name", NODE_TYPES)
async def test_no_lookup_by_global_id_crosses_organizations(
    live_server, ours, theirs, api_key, type_name
):
    result = await graphql(live_server, NODE, {"id": ours[type_name]}, theirs)
    assert result == {"data": {"node": None}}
    mine = await graphql(live_server, NODE, {"id": ours[type_name]}, await api_key())
    assert mine == {"data": {"node": {"id": ours[type_name], "__typename": type_name}}}


async def test_no_list_or_figure_crosses_organizations(live_server, ours, theirs):
    seen = (await graphql(live_server, LISTS, token=theirs))["data"]
    assert seen == {
        "sites": {"edges": []},
        "stations": {"edges": []},
        "sessions": {"edges": []},
        "idTokens": {"edges": []},
        "users": {"edges": []},
        "apiKeys": {"edges": [{"node": {"name": "test admin"}}]},  # only their own
        "alerts": {"edges": []},
        "reservations": {"edges": []},
        "cdrs": {"edges": []},
        "payments": {"edges": []},
        "partners": {"edges": []},
        "tariffs": {"edges": []},
        "dashboard": {"stations": {"total": 0}, "sessions": {"active": 0, "started": 0}},
    }


async def test_no_station_detail_crosses_organizations(live_server, ours, theirs):
    result = await graphql(
        live_server,
        '{ station(identity: "OURS-01") { commands { edges { cursor } } } }',
        token=theirs,
    )
    assert result == {"data": {"station": None}}
