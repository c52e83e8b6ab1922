"""The shipped deployment files are valid and agree with each other and with the code:
docker-compose.yml against the Compose Specification's JSON schema (compose-spec.json beside
this file, from the compose-spec project, Apache-2.0), nginx's upstreams against the compose
services, and the Grafana dashboard and Prometheus rules against the metrics the server
exports."""

import json
import re
from pathlib import Path

import jsonschema
import yaml
from prometheus_client import REGISTRY

import app.metrics  # noqa: F401  (registers every metric)

ROOT = Path(__file__).parents[2]
COMPOSE = ROOT / "docker-compose.yml"
NGINX = ROOT / "deploy" / "nginx.conf"
MONITORING = ROOT / "docs" / "monitoring"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_the_compose_file_follows_the_compose_specification():
    schema = json.loads((Path(__file__).with_name("compose-spec.json")).read_text())
    jsonschema.Draft201909Validator(schema).validate(compose())


def test_two_nodes_share_postgresql_and_redis_behind_nginx():
    services = compose()["services"]
    nodes = {name: service for name, service in services.items() if name.startswith("cpms-")}
    assert len(nodes) == 2
    ids = set()
    for service in nodes.values():
        environment = service["environment"]
        assert environment["CPMS_DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:" in environment["CPMS_DATABASE_URL"]
        assert environment["CPMS_REDIS_URL"].startswith("redis://redis:")
        assert service["build"] == "." and (ROOT / "Dockerfile").exists()
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        ids.add(environment["CPMS_NODE_ID"])
    assert len(ids) == 2  # each node its own id
    upstreams = re.findall(r"^\s*server\s+([\w.-]+):(\d+);", NGINX.read_text(), re.MULTILINE)
    assert sorted(upstreams) == sorted(
        (name, nodes[name]["environment"]["CPMS_PORT"]) for name in nodes
    )
    mounted = [volume.split(":")[0] for volume in services["nginx"]["volumes"]]
    assert all((ROOT / path).exists() for path in mounted)
    assert "proxy_set_header Upgrade $http_upgrade;" in NGINX.read_text()
    assert compose()["services"]["migrate"]["command"] == ["cpms", "migrate"]


def exported_metric_names() -> set[str]:
    names = {"up"}
    for family in REGISTRY.collect():
        for suffix in ("", "_total", "_bucket", "_count", "_sum", "_created"):
            names.add(family.name + suffix)
    return names


def referenced(expression: str) -> set[str]:
    return set(re.findall(r"\b(cpms_[a-z_]+|up)\b", expression))


def test_the_grafana_dashboard_graphs_metrics_the_server_exports():
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert len(expressions) >= 10
    used = set().union(*(referenced(expression) for expression in expressions))
    assert used <= exported_metric_names(), used - exported_metric_names()
    for wanted in (
        "cpms_http_request_seconds_count",
        "cpms_graphql_operation_seconds_bucket",
        "cpms_db_pool_waiting",
        "cpms_command_seconds_bucket",
        "cpms_outbox_pending",
        "cpms_outbox_oldest_pending_age_seconds",
        "cpms_active_sessions",
        "cpms_connected_stations",
    ):
        assert wanted in used, wanted


def test_the_alert_rules_refer_to_exported_metrics():
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert alerts and all(
        {"alert", "expr", "labels", "annotations"} <= set(rule) for rule in alerts
    )
    used = set().union(*(referenced(rule["expr"]) for rule in alerts))
    assert used <= exported_metric_names(), used - exported_metric_names()
