"""An HTTP server on loopback in a thread of its own: the shape the local API and the Toggl
sandbox share. Subclasses answer every request in ``serve``.

Two things every local server here does (moto's too, ``local/emulator/moto_server.py``): its accepted
sockets send at once (``TCP_NODELAY``: an answer goes out in two writes, its head then its body,
and with Nagle's algorithm on the body waited for the client's delayed ACK of the head, ~40 ms on
Linux, in every keep-alive answer); and it stops at once (``serve_in_thread``)."""

from __future__ import annotations

import selectors
import socket
import socketserver
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


def serve_in_thread(server: socketserver.TCPServer, name: str) -> Callable[[], None]:
    """Serve ``server`` in a daemon thread; returns what stops it and closes it, at once.

    ``serve_forever`` looks at ``shutdown``'s flag only between polls, half a second apart, so
    every stop waited up to 0.5 s; here the loop also waits on a socket pair that ``stop`` writes
    to, and idles without polling."""
    woken, wake = socket.socketpair()
    server.timeout = 0  # handle_request below only runs when a connection is waiting: never wait

    def loop(wake: socket.socket) -> None:
        # ``wake`` is held here too: a server started and forgotten (no reference kept) serves on
        # for as long as the process runs, as with ``serve_forever``, its wake socket never collected.
        with selectors.DefaultSelector() as selector:
            selector.register(server, selectors.EVENT_READ)
            selector.register(woken, selectors.EVENT_READ)
            while not any(key.fileobj is woken for key, _ in selector.select()):
                server.handle_request()

    thread = threading.Thread(target=loop, args=(wake,), name=name, daemon=True)
    thread.start()

    def stop() -> None:
        wake.send(b"\0")
        thread.join(timeout=5)
        server.server_close()
        woken.close()
        wake.close()

    return stop


class ServedInThread:
    """A server (``httpd``) served in a thread of its own by ``serve_in_thread``: its URL, start
    and stop, shared by the local servers below and moto's."""

    name = "server"
    httpd: socketserver.TCPServer
    _stop: Callable[[], None] | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._stop = serve_in_thread(self.httpd, self.name)
        return self

    def stop(self) -> None:
        if self._stop:
            self._stop()
        else:
            self.httpd.server_close()


class LoopbackServer(ServedInThread):
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # TCP_NODELAY on each accepted socket (the module says why)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # each server reports what it wants to, briefly

            def _serve(self) -> None:
                server.serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError
