"""The HTTP door: the gateway served by werkzeug on 127.0.0.1, for the AWS CLI and others."""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from gtcheck.errors import UsageError
from gtcheck.sim import wsgi
from gtcheck.sim.gateway import CONTROL_PREFIX

if TYPE_CHECKING:
    from gtcheck.sim.engine import Simulator


class QuietHandler(WSGIRequestHandler):
    """No access log: a checker polling twice a second must not flood the terminal."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class RoundTrip:
    """WSGI middleware: a request reaches the simulator half a round trip after it was sent
    and its answer leaves half a round trip later, as over a network to a distant region.

    Each connection has its own thread, so requests in flight together wait together, as
    on a real network; a write is stamped when it arrives. The control API is not delayed:
    it is the operator's, not an AWS region's."""

    def __init__(
        self, app: wsgi.WsgiApp, seconds: float, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._app = app
        self._half = seconds / 2
        self._sleep = sleep

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(CONTROL_PREFIX):
            return self._app(environ, start_response)
        self._sleep(self._half)
        answer = list(self._app(environ, start_response))
        self._sleep(self._half)
        return answer


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
            delay = sim.config.round_trip
            self._server: BaseWSGIServer = make_server(
                host,
                port,
                RoundTrip(sim.app, delay) if delay else sim.app,
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
