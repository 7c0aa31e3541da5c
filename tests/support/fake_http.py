"""What the fake platform APIs (fake_telegram, fake_zalo, fake_zalo_bot) share: a threaded HTTP server on
127.0.0.1 that does not report clients hanging up, and how a handler tells that its client gave up."""

from __future__ import annotations

import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# The status recorded for a request whose client hung up before the answer (nginx's "client closed request").
ABANDONED = 499


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog is 5: more clients connecting at once (a broadcast's 64 connections) had
    # their SYNs dropped and retried a second later, which no platform's server does.
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out on purpose (fault injection) or shut down hangs up mid-answer: not news.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class PlatformHandler(BaseHTTPRequestHandler):
    """A request handler shaped like the platforms' servers: connections kept alive (HTTP/1.1), and each answer
    leaving at once. BaseHTTPRequestHandler writes the headers and the body in two sends; with Nagle's algorithm
    on, the body waited for the client's delayed ACK of the headers, about 40 ms per answer, which made every
    send through a fake take ~50 ms and capped the broadcast benchmark near 500/s (docs/benchmarks.md)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # TCP_NODELAY, as nginx in front of the real APIs sets it

    def log_message(self, format: str, *args: Any) -> None:
        return None


def client_gone(connection: socket.socket) -> bool:
    """Whether the client closed the connection (after a fault's delay: it timed out and gave up)."""
    try:
        return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False  # still connected, nothing sent
    except OSError:
        return True
