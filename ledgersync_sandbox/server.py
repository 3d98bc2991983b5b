"""Serving the sandbox: a threaded werkzeug server, in a background thread or in the foreground."""

import contextlib
import socket
import threading
import time

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import SandboxApp
from .config import SandboxConfig


class _Handler(WSGIRequestHandler):
    """Tracks its connection so ``stop()`` can close idle keep-alive connections, and keeps
    quiet when the server is told to."""

    def setup(self):
        super().setup()
        self._ls_thread = threading.current_thread()
        with self.server._ls_lock:
            self.server._ls_handlers.add(self)

    def finish(self):
        try:
            super().finish()
        finally:
            with self.server._ls_lock:
                self.server._ls_handlers.discard(self)

    def log_request(self, *args, **kwargs):
        if not self.server._ls_quiet:
            super().log_request(*args, **kwargs)

    def log_error(self, *args, **kwargs):
        if not self.server._ls_quiet:
            super().log_error(*args, **kwargs)


class SandboxServer:
    """A running sandbox. ``base_url``, ``host``, ``port``, ``app``; ``stop()`` or use as a
    context manager. Hanging requests are released on stop, so stopping takes well under
    a few seconds whatever the injected faults."""

    def __init__(self, app, host="127.0.0.1", port=0, *, quiet=True):
        self.app = app
        self._server = make_server(host, port, app, threaded=True, request_handler=_Handler)
        self._server._ls_lock = threading.Lock()
        self._server._ls_handlers = set()
        self._server._ls_quiet = quiet
        self._server.block_on_close = False  # stop() joins handler threads itself, with a bound
        self._server.daemon_threads = True
        self.host = host
        self.port = self._server.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown}:{self.port}"
        self._thread = None
        self._stopped = False

    def start(self):
        """Serve in a daemon thread; returns self."""
        self.app.arm_hangs()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"ledgersync-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self):
        """Serve in the calling thread until KeyboardInterrupt (the CLI)."""
        self.app.arm_hangs()
        try:
            self._server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            self._close(timeout=2.0)

    def stop(self, timeout=3.0):
        if self._stopped:
            return
        self.app.release_hangs()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout)
        self._close(timeout)

    def _close(self, timeout):
        if self._stopped:
            return
        self._stopped = True
        self.app.release_hangs()
        with self._server._ls_lock:
            handlers = list(self._server._ls_handlers)
        for handler in handlers:
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        deadline = time.monotonic() + timeout
        for handler in handlers:
            thread = handler._ls_thread
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def __repr__(self):
        return f"<SandboxServer {self.base_url}>"


def serve_in_thread(config=None, *, host="127.0.0.1", port=0, quiet=True, **overrides):
    """Start a sandbox on ``host``:``port`` (default 127.0.0.1 and a free port) in a background
    thread and return the running ``SandboxServer`` (a context manager that stops it).

    ``config`` is a ``SandboxConfig``, a ready ``SandboxApp``, or None; keyword ``overrides``
    build a ``SandboxConfig`` (``serve_in_thread(clients=2, seed=7)``)."""
    if isinstance(config, SandboxApp):
        if overrides:
            raise TypeError("config overrides cannot be applied to a ready SandboxApp")
        app = config
    else:
        if config is None:
            config = SandboxConfig(**overrides)
        elif overrides:
            raise TypeError("pass either a SandboxConfig or keyword overrides, not both")
        app = SandboxApp(config)
    return SandboxServer(app, host, port, quiet=quiet).start()
