"""The HTTP door: the gateway served by werkzeug on 127.0.0.1, for the AWS CLI and others."""

from __future__ import annotations

import errno
import socket
import threading
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from gtcheck.errors import UsageError

if TYPE_CHECKING:
    from gtcheck.sim.engine import Simulator


class QuietHandler(WSGIRequestHandler):
    """No access log: a checker polling twice a second must not flood the terminal."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class SimServer:
    """A running HTTP endpoint plus the simulator's replicator thread."""

    def __init__(self, sim: Simulator, host: str, port: int) -> None:
        self.sim = sim
        try:
            # Bind first ourselves: werkzeug reports a busy port by printing and exiting.
            listener = socket.create_server((host, port))
        except OSError as problem:
            busy = problem.errno == errno.EADDRINUSE
            reason = "the port is already in use" if busy else problem.strerror or str(problem)
            raise UsageError(f"cannot listen on {host}:{port}: {reason}") from None
        with listener:
            self._server: BaseWSGIServer = make_server(
                host,
                port,
                sim.app,
                threaded=True,
                request_handler=QuietHandler,
                fd=listener.fileno(),
            )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="gtcheck-sim-http", daemon=True
        )

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SimServer:
        self.sim.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.sim.stop()

    def __enter__(self) -> SimServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
