"""Expected failures are one INFO line each, without a trace; unexpected ones keep theirs."""

import logging

from tests.conftest import graphql

ALIASES = 30


async def test_refusals_are_logged_as_one_short_info_line_each(
    live_server, organization, api_key, caplog
):
    viewer = await api_key(role="viewer")
    query = "{ " + " ".join(f"k{n}: apiKeys {{ totalCount }}" for n in range(ALIASES)) + " }"
    caplog.set_level(logging.INFO)
    result = await graphql(live_server, query, token=viewer)
    assert {error["extensions"]["code"] for error in result["errors"]} == {"not_permitted"}
    refused = [r for r in caplog.records if r.name == "cpms.graphql"]
    assert len(refused) == len(result["errors"])
    assert all(r.levelno == logging.INFO and r.exc_info is None for r in refused)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert sum(len(r.getMessage()) for r in caplog.records) < 200 * ALIASES


async def test_an_unexpected_failure_is_logged_as_an_error_with_its_trace(
    live_server, organization, api_key, caplog, monkeypatch
):
    from app.stations import service as stations

    async def broken(*args, **kwargs):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(stations, "page_stations", broken)
    caplog.set_level(logging.INFO)
    result = await graphql(
        live_server, "{ stations { totalCount } }", token=await api_key(role="viewer")
    )
    assert result["errors"][0]["message"] == "Unexpected error."
    [logged] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert logged.exc_info is not None and "the disk is on fire" in str(logged.exc_info[1])
