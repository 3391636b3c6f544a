"""Slow clients against gunicorn as the image and `make run` serve it (no proxy in front):
connections that send half a request hold no thread, so everyone else is still served."""

import contextlib
import socket
import time

import pytest

from testing.servers import Server

pytestmark = pytest.mark.django_db(transaction=True)

HALF_HEADER = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow"
HALF_BODY = (
    b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    b"Content-Length: 40\r\n\r\nusername=a"
)


@contextlib.contextmanager
def slow_clients(server: Server, count: int, sent: bytes):
    """`count` connections that have sent `sent` and then nothing more, held open."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(sent)
            sockets.append(sock)
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def test_half_sent_requests_do_not_stop_the_server(gunicorn):
    server = gunicorn()  # 2 workers x 4 threads, as the image and make run
    with slow_clients(server, 16, HALF_HEADER), slow_clients(server, 16, HALF_BODY):
        time.sleep(0.5)  # every slow connection reached a worker
        # 32 unfinished requests, 8 threads: each answer below needs a free thread.
        for _ in range(8):
            assert server.request("GET", "/health", timeout=5).status == 200


def test_a_request_sent_in_pieces_is_served_whole(gunicorn):
    server = gunicorn()
    body = b'{"email": "slow@example.com", "password": "password123"}'
    request = (
        b"POST /users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        for start in range(0, len(request), 7):
            sock.sendall(request[start : start + 7])
            time.sleep(0.01)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 201 "), answer[:200]
    assert b'"email":"slow@example.com"' in answer


def test_two_requests_on_one_kept_alive_connection(gunicorn):
    server = gunicorn()
    request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request + request[:20])  # the second one pipelined, in two parts
        time.sleep(0.2)
        sock.sendall(request[20:])
        answer = b""
        while answer.count(b"HTTP/1.1 200 ") < 2:
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk


def test_a_client_waiting_for_100_continue_is_told_to_go_on(gunicorn):
    server = gunicorn()
    body = b'{"email": "continue@example.com", "password": "password123"}'
    head = (
        b"POST /users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n" % len(body)
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head)
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 Continue")  # the body is awaited
        sock.sendall(body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 201 "), answer[:200]
