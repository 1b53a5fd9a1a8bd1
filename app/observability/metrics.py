"""Prometheus metrics: requests by path and outcome, actions, syncs, and the process.

Labels only ever carry declared names (route paths, `Concept.action`, sync names,
error codes), never inputs, so no secret can reach a label and the number of
series is bounded. With several workers each writes its figures to the launcher's
PROMETHEUS_MULTIPROC_DIR and a scrape of any worker adds them all up.
"""

from __future__ import annotations

import os
from collections.abc import Collection

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import Response

from app.engine import ActionRecord

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
OTHER_PATH = "other"


class Metrics:
    """The app's series in a registry of its own (several apps can share a process).

    It is the app's observer: actions, syncs, requests and mails.
    """

    def __init__(self, paths: Collection[str]) -> None:
        # Prometheus has no use for a `*_created` series (the time each series was first
        # touched) beside every counter and histogram: it would only double what is scraped.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.paths = frozenset(paths)
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "concept_requests",
            "Requests by route path and outcome (OK or the error code).",
            ["path", "code"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "concept_request_duration_seconds",
            "Time from a request to its response, by route path.",
            ["path"],
            registry=self.registry,
        )
        self.syncs = Counter("concept_sync_fired", "Times each sync fired.", ["sync"], registry=self.registry)
        self.action_seconds = Histogram(
            "concept_action_duration_seconds",
            "Time each action took, as Concept.action.",
            ["action"],
            registry=self.registry,
        )
        self.mails = Counter(
            "concept_mails",
            "Mails by outcome: sent, deferred (to be tried again) or failed (given up).",
            ["outcome"],
            registry=self.registry,
        )
        self._mails = {outcome: self.mails.labels(outcome) for outcome in ("sent", "deferred", "failed")}
        self.mails_queued = Gauge(
            "concept_mails_queued",
            "Mails waiting to be sent, by every process, as last counted.",
            registry=self.registry,
            multiprocess_mode="livemostrecent",
        )
        self._requests: dict[tuple[str, str], Counter] = {}
        self._request_seconds: dict[str, Histogram] = {}
        self._action_seconds: dict[str, Histogram] = {}
        self._syncs: dict[str, Counter] = {}
        self.exposed = self.registry
        if os.environ.get(MULTIPROCESS_DIR):
            self.exposed = CollectorRegistry()
            multiprocess.MultiProcessCollector(self.exposed)  # type: ignore[no-untyped-call]
            self.exposed.register(PLATFORM_COLLECTOR)  # the same in every worker
        else:
            for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
                self.registry.register(collector)

    # The series of each label value are looked up once: these run on every action.

    def request_completed(self, path: str, code: str | None, seconds: float) -> None:
        path = path if path in self.paths else OTHER_PATH
        key = (path, code or "OK")
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = self.requests.labels(*key)
        counter.inc()
        histogram = self._request_seconds.get(path)
        if histogram is None:
            histogram = self._request_seconds[path] = self.request_seconds.labels(path)
        histogram.observe(seconds)

    def action_completed(self, record: ActionRecord) -> None:
        action = record.action.qualname
        histogram = self._action_seconds.get(action)
        if histogram is None:
            histogram = self._action_seconds[action] = self.action_seconds.labels(action)
        histogram.observe(record.ms / 1000)

    def sync_fired(self, sync: str) -> None:
        counter = self._syncs.get(sync)
        if counter is None:
            counter = self._syncs[sync] = self.syncs.labels(sync)
        counter.inc()

    def mail_finished(self, outcome: str) -> None:
        self._mails[outcome].inc()

    def mails_waiting(self, count: int) -> None:
        self.mails_queued.set(count)

    async def endpoint(self, request: Request) -> Response:
        """GET /metrics: the Prometheus text format."""
        return Response(generate_latest(self.exposed), media_type=CONTENT_TYPE_LATEST)
