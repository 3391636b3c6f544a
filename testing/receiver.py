"""A webhook receiver for tests: an HTTP server on a free loopback port, in a thread of the test.

It keeps every request it gets (headers and body bytes) and answers each with the next status
of ``answers`` (then 200), after ``delay`` seconds."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self, answers: list[int] | None = None, delay: float = 0.0) -> None:
        self.answers = list(answers or [])
        self.delay = delay
        self.requests: list[Received] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, and headers and body not held back by Nagle's algorithm (against the
            # client's delayed ACK that costs 40 ms a request).
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.arrived:
                    receiver.requests.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    status = receiver.answers.pop(0) if receiver.answers else 200
                    receiver.arrived.notify_all()
                if receiver.delay:
                    time.sleep(receiver.delay)
                answer = b"ok" if status < 300 else b"not now"
                self.send_response(status)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that hung up (the worker's timeout) is no news here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def wait_for(self, count: int, timeout: float = 20, path: str | None = None) -> list[Received]:
        """The first ``count`` requests (to ``path``, if given), once they have come; fails after
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(got := [r for r in self.requests if path in (None, r.path)]) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(got)} request(s) arrived, not {count}: {got}"
                self.arrived.wait(left)
            return got[:count]


def verified(request: Received, secret: str) -> dict:
    """The request's JSON body, once its Standard Webhooks signature has verified with
    ``secret`` (raises ``WebhookVerificationError`` otherwise)."""
    return Webhook(secret).verify(request.body, request.headers)


@contextmanager
def receiver(answers: list[int] | None = None, delay: float = 0.0) -> Iterator[Receiver]:
    """A running Receiver, shut down on exit."""
    running = Receiver(answers, delay)
    thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield running
    finally:
        running.server.shutdown()
        running.server.server_close()
