"""What `GET /metrics` reports, in Prometheus' text format (prometheus-client).

The metrics are module-level objects, as prometheus-client intends: the runner and each channel's sender
count into them, and the web app exposes them. Under several uvicorn workers each process has its own
counters; `hocvu serve --workers N` points PROMETHEUS_MULTIPROC_DIR at a fresh folder before the workers
start, so `/metrics`, answered by whichever worker, sums every worker's files (`render`).
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as _multiprocess

UPDATES = Counter("hocvu_updates_received_total", "Events received from a platform and stored", ["channel"])
DUPLICATES = Counter("hocvu_duplicates_dropped_total", "Events delivered again and dropped", ["channel"])
FAILED = Counter("hocvu_events_failed_total", "Events that could not be processed (logged)", ["channel"])
TURNS = Counter("hocvu_turns_total", "Messages the conversation core answered", ["channel"])
FALLBACKS = Counter("hocvu_fallbacks_total", "Answers that said the assistant does not know", ["channel"])
FLOOD = Counter("hocvu_flood_limited_total", "Messages over a user's flood limit", ["channel", "verdict"])
ANSWER_SECONDS = Histogram(
    "hocvu_answer_seconds",
    "From taking an event to handing its replies to the sender",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SENDS = Counter("hocvu_sends_total", "Messages sent to a platform, by result", ["channel", "result"])
RATE_LIMITED = Counter("hocvu_rate_limited_total", "429 answers from a platform", ["channel"])
# "livesum": under several workers the depth is the sum over the live ones.
QUEUE_DEPTH = Gauge("hocvu_send_queue_depth", "Messages queued to send", ["channel"], multiprocess_mode="livesum")
# 1 while a channel sends nothing: the platform reported a configuration error (logged; a restart after the fix).
CHANNEL_STOPPED = Gauge(
    "hocvu_channel_stopped",
    "1 while a channel is stopped by a configuration error",
    ["channel"],
    multiprocess_mode="livemax",
)
INBOX_PENDING = Gauge("hocvu_inbox_pending", "Events stored but not yet done", ["channel"], multiprocess_mode="livemax")


def render() -> tuple[bytes, str]:
    """The metrics text and its content type: this process's, or every worker's under PROMETHEUS_MULTIPROC_DIR."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
