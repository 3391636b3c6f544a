"""gunicorn's threaded worker, with each request read before a thread is given to it.

gunicorn's ``gthread`` worker hands a connection to a thread as soon as its first bytes arrive,
and the thread then reads the rest of the request with blocking reads: a dozen clients that
send half a header (or a body a byte at a time) hold every thread of a worker, and the server
stops answering, ``/health`` included. This worker reads each request's head, and a body of
known length up to ``DATA_UPLOAD_MAX_MEMORY_SIZE``, without blocking, in short turns on the
thread pool between which the connection waits on the worker's poller holding no thread; only a
request that has fully arrived is parsed and served. A request that takes longer than
``REQUEST_READ_SECONDS`` to arrive is dropped.

Why not gevent or eventlet workers: Django keeps one database connection per thread, which
under green threads means one per request (a new PostgreSQL connection for every request, or a
pool to add and size); and why not uvicorn over ASGI: Django runs a sync view's database work
on one thread per worker there. The threads stay; only the reading moves off them.
"""

import json
import re
import time
from http import HTTPStatus
from typing import Any

from gunicorn import util
from gunicorn.workers import base, gthread

# A client gets this long to send a whole request (head and body), whatever its pace.
REQUEST_READ_SECONDS = 10.0
# Past this much head without its end, gunicorn's own parser answers (431 or 400).
HEAD_LIMIT = 64 * 1024
# Read ahead a body of known length up to the largest the app accepts (settings.py), plus a
# little; a longer declared body is refused from its Content-Length alone (config/body_limit.py).
BODY_LIMIT = 2 * 1024 * 1024 + 64 * 1024
CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d{1,12})[ \t]*\r\n", re.IGNORECASE)
CHUNKED = re.compile(rb"\r\ntransfer-encoding:", re.IGNORECASE)
# A client that asks to be told to go on (curl, for larger bodies) sends its body only then.
EXPECT_CONTINUE = re.compile(rb"\r\nexpect:[ \t]*100-continue", re.IGNORECASE)
# gunicorn's reason for refusing a request can quote the request (a header line without a colon,
# whole): the detail keeps this many characters of it.
DETAIL_LIMIT = 200


def _wanted(buffer: bytes) -> int | None:
    """How many bytes the request in ``buffer`` takes (head and body), once its head is there;
    None while the head is incomplete. A chunked body, a body awaited behind ``Expect:
    100-continue``, one longer than the app accepts, or any head this cannot read simply
    (several lengths), is left to gunicorn's parser: the head alone is then awaited."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None if len(buffer) < HEAD_LIMIT else len(buffer)
    head = buffer[: end + 2]
    lengths = CONTENT_LENGTH.findall(head)
    if CHUNKED.search(head) or EXPECT_CONTINUE.search(head) or len(lengths) != 1:
        return end + 4
    if int(lengths[0]) > BODY_LIMIT:  # refused from its Content-Length alone (413)
        return end + 4
    return end + 4 + int(lengths[0])


class _Captured:
    """Stands in for a client's socket while gunicorn writes its error answer, keeping the
    bytes (gunicorn's ``util.write_nonblock`` asks for the timeout, then calls ``sendall``)."""

    def __init__(self) -> None:
        self.data = b""

    def gettimeout(self) -> float:
        return 0.0

    def sendall(self, data: bytes) -> None:
        self.data += data


def error_answer(status: int, detail: str) -> bytes:
    """A whole HTTP/1.1 answer in the API's error shape: ``status``, ``{"detail": detail}`` as
    JSON, and ``Connection: close`` (the request could not be read, so nor can what follows it
    on the connection)."""
    body = json.dumps({"detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class BufferedThreadWorker(gthread.ThreadWorker):
    """``gthread`` with requests read ahead off the threads (the module's docstring says why).
    Plain HTTP/1.1 only, as this app is served (TLS ends at the proxy or load balancer)."""

    def handle_quit(self, sig: int, frame: Any) -> None:
        """SIGQUIT or SIGINT: stop at once, without shutting the thread pool down in the handler.

        ``gthread``'s own handler calls ``ThreadPoolExecutor.shutdown``, which takes the pool's
        lock. When the signal lands while the main thread holds that lock (handing a request to
        the pool, or inside the handler of a first quit signal: Ctrl-C in the terminal of ``make
        run`` sends the workers SIGINT, and the arbiter sends them SIGQUIT right after), the
        handler waits for its own thread (CPython issue 121649), and the worker hung until the
        arbiter killed it after ``graceful_timeout`` (30 s; one stop in two or three). Here the
        handler only ends the process (gunicorn's ``Worker.handle_quit``: ``sys.exit``); at exit
        concurrent.futures wakes the pool's idle threads and joins them, a request in progress
        finishing first, as after ``gthread``'s handler."""
        base.Worker.handle_quit(self, sig, frame)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """gunicorn's answer to a request it could not read or serve (a request line over
        ``limit_request_line``: 414; a header line over ``limit_request_field_size``: 431; a
        malformed request line or a repeated ``Host``: 400; an error outside the app: 500),
        with its status and its log lines, but with the body in the API's error shape: JSON
        ``{"detail": ...}`` (gunicorn's reason, its first DETAIL_LIMIT characters; for a 500 the
        status's phrase) in place of gunicorn's HTML page."""
        captured = _Captured()
        super().handle_error(req, captured, addr, exc)
        if not captured.data:
            return
        status = int(captured.data.split(b" ", 2)[1])
        reason = str(exc) if status < 500 else ""  # gunicorn's reason, which may echo the input
        detail = reason[:DETAIL_LIMIT] if reason else HTTPStatus(status).phrase
        try:
            util.write_nonblock(client, error_answer(status, detail))
        except OSError:  # the client may be gone
            self.log.debug("Failed to send error message.")

    # conn: gunicorn's TConn, carrying this worker's read_ahead and read_deadline between turns.
    def handle(self, conn: Any) -> object:
        """Read what has arrived without blocking; serve the request once it is whole, or give
        the connection back to the poller until more arrives (gunicorn's ``_DEFER``). New and
        kept-alive connections alike."""
        if self.cfg.is_ssl:
            return super().handle(conn)
        if not hasattr(conn, "read_ahead"):
            # What gunicorn's parser already read past the last request comes first.
            conn.read_ahead = conn.parser.unreader.take_buffered() if conn.initialized else b""
            conn.read_deadline = time.monotonic() + REQUEST_READ_SECONDS
        conn.sock.setblocking(False)
        try:
            while True:
                wanted = _wanted(conn.read_ahead)
                if wanted is not None and len(conn.read_ahead) >= wanted:
                    break
                chunk = conn.sock.recv(65536)
                if not chunk:  # the client went away (or never sent a request)
                    return False
                conn.read_ahead += chunk
        except (BlockingIOError, InterruptedError):
            if time.monotonic() > conn.read_deadline:
                self.log.debug("Closing a connection whose request did not arrive in time")
                return False
            conn.data_ready = False
            return gthread._DEFER
        except OSError:
            return False
        conn.data_ready = True
        conn.init()  # blocking again, with gunicorn's parser on the socket (once per connection)
        conn.parser.unreader.unread(conn.read_ahead)
        del conn.read_ahead
        return super().handle(conn)
