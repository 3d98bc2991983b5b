"""One deadline for a whole HTTP exchange, whatever the server does.

requests' timeouts bound each socket operation, not an exchange: a server that sends one
byte a second keeps a request alive for ever. ``ExchangeWatch`` runs beside one request
and, when its deadline passes, shuts down the socket of the connection in use, so that the
blocked read returns at once. urllib3 hands out connections through
``HTTPConnectionPool._get_conn`` (in 1.26 and 2.x alike): the pools mounted by
transport.py report each connection they hand out, and the socket it opens, to the watch
of the current request (``current_watch``), and every attempt (urllib3 retries included)
gets a fresh deadline.
"""

import contextlib
import contextvars
import socket
import threading
import time

# The watch of the request being sent in this thread (or context), if any.
_CURRENT = contextvars.ContextVar("ledgersync_exchange_watch", default=None)
# After the deadline, how often the watch looks again for a socket to shut down (one may
# still be connecting).
_POLL_SECONDS = 0.05


def current_watch():
    return _CURRENT.get()


class ExchangeWatch:
    """Shuts down the connection of an exchange that outlives its deadline.

    Use as a context manager around one request: ``attach(connection)`` starts an attempt
    with ``seconds`` to live (never past ``stop_at``, a ``time.monotonic()`` instant), and
    ``expired`` tells whether the current attempt's time ran out.
    """

    def __init__(self, seconds, stop_at=None):
        self.seconds = float(seconds)
        self.stop_at = stop_at
        self.expired = False
        self._connection = None
        self._socket = None  # the attempt's socket, also once http.client took it away
        self._deadline = self._attempt_deadline()
        self._done = False
        self._condition = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="ledgersync-deadline", daemon=True)
        self._token = None

    def _attempt_deadline(self):
        deadline = time.monotonic() + self.seconds
        return deadline if self.stop_at is None else min(deadline, self.stop_at)

    def time_left(self):
        return self._deadline - time.monotonic()

    def attach(self, connection):
        """A new attempt on ``connection``: its own deadline starts now."""
        with self._condition:
            self._connection = connection
            self._socket = getattr(connection, "sock", None)  # a kept-alive connection's
            self.expired = False
            self._deadline = self._attempt_deadline()
            self._condition.notify()

    def attach_socket(self, sock):
        """The socket the current attempt's connection just opened."""
        with self._condition:
            self._socket = sock

    def __enter__(self):
        self._token = _CURRENT.set(self)
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        _CURRENT.reset(self._token)
        with self._condition:
            self._done = True
            self._condition.notify()
        self._thread.join(1.0)

    def _run(self):
        with self._condition:
            while not self._done:
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._condition.wait(left)
                    continue
                self.expired = True
                _shut_down(getattr(self._connection, "sock", None) or self._socket)
                self._condition.wait(_POLL_SECONDS)


def _shut_down(sock):
    """Make every blocked or later read of ``sock`` return at once."""
    if sock is None:
        return
    try:
        # The plain socket's method, also for a TLS socket: SSLSocket.shutdown() would drop
        # its TLS state under the reading thread's feet.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except (OSError, TypeError):
        with contextlib.suppress(OSError, AttributeError):
            sock.shutdown(socket.SHUT_RDWR)
