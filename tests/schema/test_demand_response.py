"""Demand response by hand: a grid operator's request lowers what a site may draw for a
window, and ends early when cancelled; bad requests are refused with nothing written."""

from datetime import UTC, datetime, timedelta

import pytest

from db.tables import DemandResponseEvent
from tests.conftest import graphql

SITE = """
mutation ($input: SiteInput!) { createSite(input: $input) {
  ... on SiteSaved { site { id } } ... on UserError { code message } } }
"""
EVENT = "id startsAt endsAt limitA source cancelled site { name }"
CREATE = f"""
mutation ($input: DemandResponseEventInput!) {{ createDemandResponseEvent(input: $input) {{
  __typename ... on DemandResponseEventSaved {{ event {{ {EVENT} }} }}
  ... on UserError {{ code message }} }} }}
"""
CANCEL = f"""
mutation ($id: ID!) {{ cancelDemandResponseEvent(id: $id) {{
  __typename ... on DemandResponseEventSaved {{ event {{ {EVENT} }} }}
  ... on UserError {{ code message }} }} }}
"""
CAPACITY = """
query ($id: ID!) { node(id: $id) { ... on Site {
  gridCapacityA capacityA demandResponseEvents { id limitA } } } }
"""


def at(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


async def a_site(live_server, admin: str, capacity: int | None = 100) -> str:
    created = await graphql(
        live_server, SITE, {"input": {"name": "Depot", "gridCapacityA": capacity}}, admin
    )
    return created["data"]["createSite"]["site"]["id"]


async def test_an_event_lowers_the_capacity_while_in_force_and_ends_when_cancelled(
    live_server, organization, api_key
):
    admin, operator = await api_key(role="admin"), await api_key(role="operator")
    site = await a_site(live_server, admin)
    window = {"siteId": site, "startsAt": at(-1), "endsAt": at(60)}
    now = (await graphql(live_server, CREATE, {"input": {**window, "limitA": "40"}}, operator))[
        "data"
    ]["createDemandResponseEvent"]
    assert now["__typename"] == "DemandResponseEventSaved"
    assert now["event"]["limitA"] == "40.0"
    assert now["event"]["source"] == "OPERATOR"
    assert now["event"]["site"] == {"name": "Depot"}
    later = (
        await graphql(
            live_server,
            CREATE,
            {"input": {"siteId": site, "startsAt": at(120), "endsAt": at(180), "limitA": "0"}},
            operator,
        )
    )["data"]["createDemandResponseEvent"]["event"]
    seen = (await graphql(live_server, CAPACITY, {"id": site}, operator))["data"]["node"]
    assert seen == {
        "gridCapacityA": 100,
        "capacityA": "40.0",  # the lower of the two; the later event is not in force yet
        "demandResponseEvents": [
            {"id": now["event"]["id"], "limitA": "40.0"},
            {"id": later["id"], "limitA": "0.0"},
        ],
    }

    cancelled = (await graphql(live_server, CANCEL, {"id": now["event"]["id"]}, operator))["data"][
        "cancelDemandResponseEvent"
    ]["event"]
    assert cancelled["cancelled"] is True
    assert datetime.fromisoformat(cancelled["endsAt"]) <= datetime.now(UTC)
    again = await graphql(live_server, CANCEL, {"id": now["event"]["id"]}, operator)
    assert again["data"]["cancelDemandResponseEvent"]["event"] == cancelled
    never = (await graphql(live_server, CANCEL, {"id": later["id"]}, operator))["data"][
        "cancelDemandResponseEvent"
    ]["event"]
    assert never["endsAt"] == never["startsAt"]  # never begins
    seen = (await graphql(live_server, CAPACITY, {"id": site}, operator))["data"]["node"]
    assert seen == {"gridCapacityA": 100, "capacityA": "100", "demandResponseEvents": []}


async def test_an_event_limits_a_site_without_a_grid_capacity(live_server, organization, api_key):
    admin = await api_key(role="admin")
    site = await a_site(live_server, admin, capacity=None)
    assert (await graphql(live_server, CAPACITY, {"id": site}, admin))["data"]["node"][
        "capacityA"
    ] is None
    window = {"siteId": site, "startsAt": at(-1), "endsAt": at(60), "limitA": "63.5"}
    await graphql(live_server, CREATE, {"input": window}, admin)
    seen = (await graphql(live_server, CAPACITY, {"id": site}, admin))["data"]["node"]
    assert seen["capacityA"] == "63.5"


@pytest.mark.parametrize(
    "change, code",
    [
        ({"endsAt": at(-30)}, "invalid_input"),  # before it starts
        ({"startsAt": at(-60), "endsAt": at(-30)}, "invalid_input"),  # over already
        ({"limitA": "-1"}, "invalid_input"),
        ({"limitA": "12.25"}, "invalid_input"),
        ({"limitA": "100001"}, "invalid_input"),
        ({"startsAt": "2030-01-01T10:00:00"}, "invalid_input"),  # no offset
        ({"siteId": "U2l0ZTo5OTk5"}, "not_found"),  # Site:9999
        ({"siteId": "Q2hhcmdpbmdTdGF0aW9uOjE="}, "invalid_input"),  # not a site id
    ],
)
async def test_a_request_that_cannot_be_is_refused_and_nothing_is_written(
    live_server, organization, api_key, change, code
):
    admin = await api_key(role="admin")
    site = await a_site(live_server, admin)
    request = {"siteId": site, "startsAt": at(0), "endsAt": at(60), "limitA": "40", **change}
    refused = await graphql(live_server, CREATE, {"input": request}, admin)
    assert refused["data"]["createDemandResponseEvent"]["code"] == code
    assert await DemandResponseEvent.count() == 0


async def test_drivers_and_viewers_may_not_change_a_sites_capacity(
    live_server, organization, api_key
):
    admin = await api_key(role="admin")
    site = await a_site(live_server, admin)
    request = {"siteId": site, "startsAt": at(0), "endsAt": at(60), "limitA": "40"}
    for role in ("driver", "viewer"):
        refused = await graphql(live_server, CREATE, {"input": request}, await api_key(role=role))
        assert refused["data"]["createDemandResponseEvent"]["code"] == "not_permitted"
    assert await DemandResponseEvent.count() == 0


async def test_a_site_has_a_bounded_number_of_events_to_come(
    live_server, organization, api_key, monkeypatch
):
    from app.smart_charging import service

    monkeypatch.setattr(service, "MAX_EVENTS_TO_COME", 2)
    admin = await api_key(role="admin")
    site = await a_site(live_server, admin)
    results = [
        (
            await graphql(
                live_server,
                CREATE,
                {"input": {"siteId": site, "startsAt": at(n), "endsAt": at(n + 1), "limitA": 10}},
                admin,
            )
        )["data"]["createDemandResponseEvent"]["__typename"]
        for n in range(3)
    ]
    assert results == ["DemandResponseEventSaved", "DemandResponseEventSaved", "InvalidInputError"]
