"""GET /metrics after real requests: the series an operator's Prometheus scrapes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.database import free_port
from tests.launched import launcher_env, wait_until_healthy

from .helpers import ME, Api, StartApi

PASSWORD = "correct horse metrics"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


async def scrape(api: Api) -> tuple[str, dict[tuple[str, frozenset[tuple[str, str]]], float]]:
    response = await api.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text, samples(response.text)


async def test_requests_actions_and_syncs_are_counted_by_path_outcome_and_name(api: Api) -> None:
    _, token = await api.register("ada", PASSWORD)
    await api.gql(ME, token=token)
    await api.gql(ME)  # no token: `me` is null
    await api.rest("/UserAuthentication/_getUsernameById", {"user": "nobody"})  # no token: UNAUTHENTICATED
    await api.rest("/UserAuthentication/register", {"username": "ada", "password": PASSWORD})  # taken
    await api.rest("/UserAuthentication/register", {"username": "bob"})  # no password: refused, no flow
    await api.rest("/nowhere/" + "x" * 50, {})

    text, scraped = await scrape(api)

    register = "/UserAuthentication/register"
    assert value(scraped, "concept_requests_total", path=register, code="OK") == 1
    assert value(scraped, "concept_requests_total", path=register, code="USERNAME_TAKEN") == 1
    assert value(scraped, "concept_requests_total", path=register, code="BAD_USER_INPUT") == 1
    assert value(scraped, "concept_requests_total", path="/me", code="OK") == 2
    by_id = "/UserAuthentication/_getUsernameById"
    assert value(scraped, "concept_requests_total", path=by_id, code="UNAUTHENTICATED") == 1
    assert value(scraped, "concept_requests_total", path="other", code="NOT_FOUND") == 1
    assert value(scraped, "concept_request_duration_seconds_count", path=register) == 3
    assert value(scraped, "concept_request_duration_seconds_count", path="/me") == 2
    assert value(scraped, "concept_request_duration_seconds_bucket", path="/me", le="+Inf") == 2
    assert "x" * 50 not in text  # an unknown path never becomes a label value

    assert value(scraped, "concept_sync_fired_total", sync="RegisterRequest") == 2
    assert value(scraped, "concept_sync_fired_total", sync="RegisterResponse") == 1
    assert value(scraped, "concept_sync_fired_total", sync="RegisterResponseError") == 1
    assert value(scraped, "concept_action_duration_seconds_count", action="UserAuthentication.register") == 2
    assert (
        value(scraped, "concept_action_duration_seconds_count", action="Requesting.request") == 5
    )  # the two refused ran no flow
    assert value(scraped, "concept_action_duration_seconds_sum", action="UserAuthentication.register") > 0

    assert value(scraped, "process_cpu_seconds_total") > 0
    assert any(name.startswith("python_gc_") for name, _ in scraped)
    assert any(name == "python_info" for name, _ in scraped)
    assert PASSWORD not in text and token not in text


async def test_metrics_false_serves_no_metrics(start_api: StartApi) -> None:
    async with start_api(metrics=False) as api:
        await api.register("ada", PASSWORD)
        response = await api.http.get("/metrics")
    assert response.status_code == 404


@pytest.mark.launcher
def test_with_several_workers_any_scrape_adds_up_every_worker(tmp_path: Path) -> None:
    port = free_port()
    url, log = f"http://127.0.0.1:{port}", tmp_path / "app.log"
    env = {**launcher_env(port, tmp_path / "data"), "WORKERS": "2"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "app"], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output
        )
    try:
        wait_until_healthy(process, url, log)
        for _ in range(12):  # a new connection each: the workers share them out
            httpx.post(f"{url}/graphql", json={"query": ME}, timeout=10.0).raise_for_status()
        scrapes = [samples(httpx.get(f"{url}/metrics", timeout=10.0).text) for _ in range(6)]
    finally:
        process.terminate()
        process.wait(timeout=30)
    for scraped in scrapes:
        assert value(scraped, "concept_requests_total", path="/me", code="OK") == 12
        # Multiprocess mode: the figures come from the workers' files, not one process.
        assert value(scraped, "process_cpu_seconds_total") == 0
        assert any(name == "python_info" for name, _ in scraped)


async def test_no_created_series_beside_the_counters_and_histograms(api: Api) -> None:
    await api.register("ada", PASSWORD)

    text, scraped = await scrape(api)

    assert value(scraped, "concept_requests_total", path="/UserAuthentication/register", code="OK") == 1
    assert [name for name, _ in scraped if name.endswith("_created")] == []
    assert "_created" not in text
