"""What /metrics tells an operator, scraped from a real server after real traffic."""

import httpx
from prometheus_client.parser import text_string_to_metric_families

from app import metrics
from app.commands import models
from app.commands.service import send_command
from app.monitoring import ClusterGauges
from app.outbox import enqueue
from tests.ocpp_server.test_commands import Station16, booted


async def scrape(server) -> dict[tuple[str, tuple], float]:
    async with httpx.AsyncClient(base_url=server.http) as client:
        text = (await client.get("/metrics")).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


async def test_metrics_after_real_traffic(
    live_server, register, connect_charger, api_key, organization, unit_of_work, settings
):
    live_server.app.state.cluster_gauges = ClusterGauges(refresh_s=0)
    before = await scrape(live_server)
    key = await api_key(role="viewer")
    async with httpx.AsyncClient(base_url=live_server.http) as client:
        answer = await client.post(
            "/graphql",
            json={
                "query": "query MetricsProbe { viewer { role } }",
                "operationName": "MetricsProbe",
            },
            headers={"Authorization": f"Bearer {key}"},
        )
        assert answer.status_code == 200
    await register("CP-METRICS")
    async with connect_charger("CP-METRICS", client_class=Station16) as station:
        await booted(station, "ocpp1.6")
        await send_command(
            live_server.app.state.gateway, unit_of_work, "CP-METRICS", models.Reset(hard=False)
        )
        async with unit_of_work():
            await enqueue(organization, "metrics_probe", {}, "metrics-probe-1")
        samples = await scrape(live_server)
    node = live_server.app.state.runtime.settings.node_id

    def grew(name: str, **labels: str) -> float:
        return (value(samples, name, **labels) or 0) - (value(before, name, **labels) or 0)

    assert (
        grew(
            "cpms_graphql_operation_seconds_count",
            operation="MetricsProbe",
            type="query",
            outcome="ok",
        )
        == 1
    )
    assert (
        grew("cpms_http_request_seconds_count", route="/graphql", method="POST", status="2xx") >= 1
    )
    assert grew("cpms_command_seconds_count", action="reset", result="accepted") == 1
    assert value(samples, "cpms_connected_stations", node=node) == 1
    assert value(samples, "cpms_outbox_pending") == 1
    assert value(samples, "cpms_outbox_oldest_pending_age_seconds") >= 0
    assert value(samples, "cpms_active_sessions") == 0
    if not settings.is_sqlite:
        assert value(samples, "cpms_db_pool_connections", state="max") == settings.db_pool_max_size
        assert value(samples, "cpms_db_pool_waiting") == 0


def test_operation_names_cannot_grow_the_metric_without_bound(monkeypatch):
    monkeypatch.setattr(metrics, "_operation_names", set())
    labels = {metrics.operation_label(f"Op{number}") for number in range(500)}
    assert len(labels) <= metrics.MAX_OPERATION_NAMES + 1
    assert "other" in labels
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.operation_label("x" * 500) == "other"
    assert metrics.operation_label("bad name!") == "other"
