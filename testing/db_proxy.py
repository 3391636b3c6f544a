"""A TCP proxy in front of the test database, which a test can cut and restore: the database
going away and coming back, as a server sees it (connections refused, open ones dropped)."""

import contextlib
import socket
import threading

from testing.net import free_port


class DatabaseProxy:
    """Listens on 127.0.0.1:`port` and forwards each connection to the database at `host`
    (a host name, or a Unix-socket directory as Django's HOST gives it) and `port`."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host or "127.0.0.1", int(port or 5432))
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()

    def _connect_upstream(self) -> socket.socket:
        host, port = self.upstream
        if host.startswith("/"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(f"{host}/.s.PGSQL.{port}")
            return sock
        return socket.create_connection((host, port))

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                self._flowing.wait()
                target.sendall(data)
        for sock in (source, target):
            self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            upstream = self._connect_upstream()
            with self._lock:
                self._open |= {client, upstream}
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def start(self) -> None:
        """Accept connections (again)."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def pause(self) -> None:
        """Hang: connections stay open and new ones are accepted, but nothing goes through, as
        when the server is paused (SIGSTOP) or the network path goes silent."""
        self._flowing.clear()

    def resume(self) -> None:
        """Let everything held since ``pause`` go through."""
        self._flowing.set()

    def stop(self) -> None:
        """Refuse new connections and drop every open one, as a stopped server does."""
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            open_sockets = list(self._open)
        for sock in open_sockets:
            self._close(sock)
