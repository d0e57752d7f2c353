"""The daemon's HTTP endpoint: ``/healthz`` for a load balancer or systemd watchdog script,
``/metrics`` for Prometheus.

Bound to 127.0.0.1 by default (``[daemon] http_host``, ``http_port``; port 0 turns it off):
the numbers are not secret, but nothing outside the server needs them unless an operator
says so. A standby serves both too, so a monitor can tell "standby" from "dead".
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)


class Metrics:
    """The daemon's Prometheus metrics, in a registry of its own."""

    def __init__(self, store_status: Callable[[], dict[str, Any] | None]) -> None:
        self.registry = CollectorRegistry()
        self.runs = Counter(
            "naebu_runs",
            "Runs finished, by job and status",
            ["job", "status"],
            registry=self.registry,
        )
        self.run_seconds = Histogram(
            "naebu_run_duration_seconds",
            "Duration of runs",
            ["job"],
            buckets=(1, 5, 15, 60, 300, 900, 3600),
            registry=self.registry,
        )
        self.leader = Gauge(
            "naebu_leader", "1 when this process is the leader", registry=self.registry
        )
        self.rule_problems = Gauge(
            "naebu_rule_problems", "Problems in the rule files now", registry=self.registry
        )
        self.rules_kept = Gauge(
            "naebu_rules_last_good",
            "Rules running in their last good version because their file is broken",
            registry=self.registry,
        )
        self.source_failures = Gauge(
            "naebu_source_consecutive_failures",
            "Consecutive failed pulls of a source",
            ["source"],
            registry=self.registry,
        )
        self.registry.register(_StoreCollector(store_status))


class _StoreCollector(Collector):
    """Gauges read from the store at scrape time: outbox, alerts, source lag."""

    def __init__(self, store_status: Callable[[], dict[str, Any] | None]) -> None:
        self.store_status = store_status

    def collect(self) -> Iterator[GaugeMetricFamily]:
        status = self.store_status()
        if status is None:
            return
        outbox = GaugeMetricFamily(
            "naebu_outbox_messages", "Outbox messages by status", labels=["status"]
        )
        for k, v in status["outbox"].items():
            outbox.add_metric([k], v)
        yield outbox
        alerts = GaugeMetricFamily("naebu_alerts", "Alerts by state", labels=["state"])
        for k, v in status["alerts"].items():
            alerts.add_metric([k], v)
        yield alerts
        lag = GaugeMetricFamily(
            "naebu_source_lag_seconds",
            "Seconds since the source was last pulled successfully",
            labels=["source"],
        )
        for name, s in status["sources"].items():
            if s["lag_seconds"] is not None:
                lag.add_metric([name], s["lag_seconds"])
        yield lag


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - wsgiref's name
        log.debug("http: " + format, *args)


def serve(
    host: str, port: int, metrics: Metrics, health: Callable[[], tuple[bool, dict[str, Any]]]
) -> WSGIServer | None:
    """Start the endpoint on a background thread; None (logged) when the port is taken."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/healthz":
            ok, body = health()
            start_response(
                "200 OK" if ok else "503 Service Unavailable",
                [("Content-Type", "application/json")],
            )
            return [json.dumps(body, ensure_ascii=False).encode()]
        if path == "/metrics":
            data = generate_latest(metrics.registry)
            start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4")])
            return [data]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found: try /healthz or /metrics\n"]

    try:
        server = make_server(host, port, app, server_class=_Server, handler_class=_QuietHandler)
    except OSError as exc:
        log.error("cannot serve /healthz and /metrics on %s:%d: %s", host, port, exc)
        return None
    threading.Thread(target=server.serve_forever, name="naebu-http", daemon=True).start()
    log.info("health and metrics on http://%s:%d/healthz and /metrics", host, server.server_port)
    return server
