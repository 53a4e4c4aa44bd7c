"""`GET /metrics`: Prometheus figures for operators.

Two kinds of figures. What this web process sees itself (requests by surface and outcome,
how long until each was acknowledged) lives in a registry of its own, fed by a middleware.
What other processes produce (queue depth, run durations, tokens, cost, open sessions) is
read from Redis at scrape time on the async client, then rendered (CPU only), so every web
process reports the same fleet-wide numbers and nothing is lost when a worker exits.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from redis.asyncio import Redis as AsyncRedis

from bot.core.config import Settings
from bot.sessions import budgets, metrics
from handlers.common.context import WebContext

# Route prefix -> surface label; requests elsewhere (/healthz, /metrics, /static) aren't counted.
SURFACES = (
    ("/slack/", "slack"),
    ("/webhooks/gitlab", "gitlab"),
    ("/webhooks/github", "github"),
    ("/sessions/", "page"),
)
# Slack wants an answer within 3 s and webhooks within a few ms: the buckets straddle both.
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0)
STARTED_AT = web.RequestKey("repobox.metrics.started", float)
SURFACE = web.RequestKey("repobox.metrics.surface", str)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def surface_of(path: str) -> str | None:
    for prefix, surface in SURFACES:
        if path == prefix.rstrip("/") or path.startswith(prefix):
            return surface
    return None


class RequestMetrics:
    """Counts each request once, when its response starts (for a stream: its headers)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "repobox_requests",
            "Requests by surface and outcome (status class).",
            ["surface", "outcome"],
            registry=registry,
        )
        self.ack_seconds = Histogram(
            "repobox_ack_seconds",
            "Time from a request's arrival to its response starting, by surface.",
            ["surface"],
            buckets=ACK_BUCKETS,
            registry=registry,
        )

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        surface = surface_of(request.path)
        if surface is not None:
            request[STARTED_AT] = time.perf_counter()
            request[SURFACE] = surface
        return await handler(request)

    async def on_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        started = request.get(STARTED_AT)
        if started is None:
            return
        del request[STARTED_AT]  # once per request
        surface = request[SURFACE]
        self.requests.labels(surface, f"{response.status // 100}xx").inc()
        self.ack_seconds.labels(surface).observe(time.perf_counter() - started)


@dataclass(frozen=True)
class Fleet:
    """What other processes left in Redis, read on the event loop before a scrape renders."""

    depth: dict[str, int]
    sessions: dict[str, int]
    running: int
    runs: metrics.RunFigures
    spend: dict[tuple[str, str, str], float]  # (person|project, name, usd|tokens) -> spent


async def read_fleet(settings: Settings, aredis: AsyncRedis) -> Fleet:
    window = settings.idle_archive_after + 3600
    return Fleet(
        depth=await metrics.queue_depths(aredis),
        sessions=await metrics.open_sessions(aredis, window),
        running=await metrics.runs_in_progress(aredis),
        runs=await metrics.read_runs(aredis),
        spend=await budgets.totals(aredis),
    )


class FleetCollector(Collector):
    """The figures of the scrape going on: `serve` reads them (async), then renders with
    `generate_latest`, which only formats, on the loop (one scrape at a time)."""

    def __init__(self) -> None:
        self.fleet: Fleet | None = None

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        fleet = self.fleet
        if fleet is None:  # not in a scrape (prometheus_client describes collectors too)
            return
        depth = GaugeMetricFamily(
            "repobox_queue_depth", "Jobs waiting per RQ queue.", labels=["queue"]
        )
        for name, count in fleet.depth.items():
            depth.add_metric([name], count)
        yield depth

        sessions = GaugeMetricFamily(
            "repobox_sessions_active",
            "Open sessions (not archived or failed) by state.",
            labels=["state"],
        )
        for state, count in sorted(fleet.sessions.items()):
            sessions.add_metric([state], count)
        yield sessions
        yield GaugeMetricFamily(
            "repobox_runs_in_progress", "Prompt runs going on now.", value=fleet.running
        )
        yield from _run_families(fleet.runs)
        yield from _spend_families(fleet.spend)


def _run_families(
    runs: metrics.RunFigures,
) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
    total = CounterMetricFamily(
        "repobox_runs", "Finished prompt runs by outcome.", labels=["outcome"]
    )
    for outcome, count in sorted(runs.runs.items()):
        total.add_metric([outcome], count)
    yield total
    buckets = [(str(float(bound)), count) for bound, count in runs.buckets]
    yield HistogramMetricFamily(
        "repobox_run_duration_seconds",
        "Duration of prompt runs.",
        buckets=[*buckets, ("+Inf", runs.count)],
        sum_value=runs.seconds_sum,
    )
    tokens = CounterMetricFamily(
        "repobox_tokens", "Model tokens used by runs, by kind.", labels=["kind"]
    )
    for kind, count in sorted(runs.tokens.items()):
        tokens.add_metric([kind], count)
    yield tokens
    yield CounterMetricFamily(
        "repobox_cost_usd", "Model cost of runs in US dollars.", value=runs.cost_usd
    )
    candidates = CounterMetricFamily(
        "repobox_compare_candidates",
        "Candidates run by comparisons, by model or agent and outcome.",
        labels=["candidate", "outcome"],
    )
    for (label, outcome), count in sorted(runs.candidates.items()):
        candidates.add_metric([label, outcome], count)
    yield candidates
    picks = CounterMetricFamily(
        "repobox_compare_picks", "Candidates picked after a comparison.", labels=["candidate"]
    )
    for label, count in sorted(runs.picks.items()):
        picks.add_metric([label], count)
    yield picks


def _spend_families(spend: dict[tuple[str, str, str], float]) -> Iterator[CounterMetricFamily]:
    """Spend by person and by project (docs/budgets.md): the same runs counted both ways."""
    for unit, what in (("usd", "Model cost in US dollars"), ("tokens", "Model tokens")):
        family = CounterMetricFamily(
            f"repobox_spend_{unit}", f"{what}, by person or project.", labels=["scope", "name"]
        )
        for (scope, name, of), value in sorted(spend.items()):
            if of == unit:
                family.add_metric([scope, name], value)
        yield family


def register(app: web.Application, ctx: WebContext) -> None:
    registry = CollectorRegistry()
    requests = RequestMetrics(registry)
    fleet = FleetCollector()
    registry.register(fleet)
    app.middlewares.append(requests.middleware)
    app.on_response_prepare.append(requests.on_prepare)

    async def serve(_request: web.Request) -> web.Response:
        figures = await read_fleet(ctx.settings, ctx.aredis)
        fleet.fleet = figures  # no await between here and the render: no other scrape sees it
        try:
            body = generate_latest(registry)  # formatting only: no I/O
        finally:
            fleet.fleet = None
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/metrics", serve)
