"""METRICS_PORT: /metrics on a port of its own, so the API's port can be published to
the world and the metrics' kept inside the network (docker-compose.yml does)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from app.database import free_port
from tests.launched import AppProcess, running_apps

pytestmark = pytest.mark.launcher

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[list[tuple[AppProcess, str]]]:
    common = {"MONGODB_URL": database_url, "MONGODB_DB": f"metrics_port_{uuid.uuid4().hex}"}
    ports = [free_port(), free_port()]
    settings = [
        {**common, "METRICS_PORT": str(port), "WORKERS": workers} for port, workers in zip(ports, "12", strict=True)
    ]
    with running_apps(tmp_path_factory.mktemp("metrics_port"), *settings) as running:
        yield [(app, f"http://127.0.0.1:{port}") for app, port in zip(running, ports, strict=True)]


def test_metrics_are_served_on_their_port_only(apps: list[tuple[AppProcess, str]]) -> None:
    for app, metrics in apps:
        assert app.me(None) is None  # counted

        assert httpx.get(f"{app.url}/metrics", timeout=10).status_code == 404
        scraped = httpx.get(f"{metrics}/metrics", timeout=10)
        assert scraped.status_code == 200, scraped.text
        assert 'concept_requests_total{code="OK",path="/me"}' in scraped.text
        assert scraped.headers["x-content-type-options"] == "nosniff"


def test_the_metrics_port_serves_nothing_else(apps: list[tuple[AppProcess, str]]) -> None:
    for _, metrics in apps:
        assert httpx.get(f"{metrics}/healthz", timeout=10).status_code == 404
        graphql = httpx.post(f"{metrics}/graphql", json={"query": "{ me { id } }"}, timeout=10)
        assert graphql.status_code == 404


def test_the_compose_file_publishes_the_api_and_not_the_metrics() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    app = compose["services"]["app"]
    metrics_port = str(app["environment"]["METRICS_PORT"])

    assert [str(mapping).split(":")[-1] for mapping in app["ports"]] == ["8000"]
    assert metrics_port != "8000" and all(metrics_port not in str(mapping) for mapping in app["ports"])
    assert str(app["environment"].get("METRICS", "true")).lower() != "false"


def test_the_compose_files_mongodb_is_the_replica_set_the_app_names() -> None:
    """The session cache needs change streams, so the compose file's MongoDB is a
    one-member replica set, initiated by its health check, and the app names that set
    (a standalone server would run the app with its cache off)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mongo, app = compose["services"]["mongo"], compose["services"]["app"]
    check = mongo["healthcheck"]["test"][-1]

    assert mongo["command"][:2] == ["--replSet", "rs0"]
    assert 'rs.initiate({_id: "rs0", members: [{_id: 0, host: "mongo:27017"}]})' in check
    assert "isWritablePrimary" in check
    assert app["environment"]["MONGODB_URL"] == "mongodb://mongo:27017/?replicaSet=rs0"
    assert app["depends_on"]["mongo"]["condition"] == "service_healthy"
