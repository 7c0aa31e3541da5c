"""What the fake platform APIs (fake_telegram, fake_zalo, fake_zalo_bot) share: a threaded HTTP server on
127.0.0.1 that does not report clients hanging up, and how a handler tells that its client gave up."""

from __future__ import annotations

import socket
import sys
from http.server import ThreadingHTTPServer
from typing import Any

# The status recorded for a request whose client hung up before the answer (nginx's "client closed request").
ABANDONED = 499


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out on purpose (fault injection) or shut down hangs up mid-answer: not news.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def client_gone(connection: socket.socket) -> bool:
    """Whether the client closed the connection (after a fault's delay: it timed out and gave up)."""
    try:
        return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False  # still connected, nothing sent
    except OSError:
        return True
