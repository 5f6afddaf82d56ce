"""moto in server mode on loopback, bound in the caller's thread: a port in use is an error at
once (moto's own ThreadedMotoServer would bind inside its thread and wait for ever), and port 0
picks a free one that ``url`` then names. The socket is bound here, not by werkzeug, which would
print its own two lines and exit on a port in use: the caller gets the ``OSError`` instead.
Like every local server, it sends at once and stops at once (``local/emulator/loopback.py`` says why)."""

from __future__ import annotations

import logging
import socket
from typing import Any

from werkzeug.serving import make_server

from local.emulator.loopback import ServedInThread


class MotoServer(ServedInThread):
    name = "moto"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
        app: Any = DomainDispatcherApplication(create_backend_app)

        class Handler(MotoRequestHandler):
            disable_nagle_algorithm = True

        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as bound:
            bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug does
            bound.bind((host, port))
            bound.listen(128)
            # werkzeug serves a duplicate of this socket; ours is closed on leaving the block.
            self.httpd = make_server(host, port, app, threaded=True, request_handler=Handler, fd=bound.fileno())
