"""Where a connection may go: the addresses the API host resolves to.

urls.py checks the base URL as written. A public-looking name can still resolve to a
private address (a DNS entry pointing inward, or one rebound between two lookups). So each
new connection to the API host resolves the name once, here, refuses it when an address is
not public (unless the host is allow-listed), and connects to the addresses it checked,
never to those of a second lookup. The lookup runs within the time the exchange has left:
``getaddrinfo`` cannot be interrupted, so it runs in a helper thread that is abandoned when
that time is up.
"""

import contextlib
import contextvars
import socket
import threading

from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from .urls import host_is_internal, host_key

_CURRENT = contextvars.ContextVar("ledgersync_address_policy", default=None)


class AddressRefused(NewConnectionError):
    """The API host resolved to an address the policy does not allow."""


class ResolutionTimeout(ConnectTimeoutError):
    """The API host's name did not resolve in the time left."""


class AddressPolicy:
    """The API host and the allow-list of one client (see urls.py)."""

    def __init__(self, host, allowed_hosts):
        self.host = host_key(host)
        self.trusted = self.host in {host_key(allowed) for allowed in allowed_hosts}

    def applies_to(self, host):
        """Is ``host`` the API host? A proxy (set by the administrator) is not checked: it
        reaches the API host itself."""
        return host_key(host) == self.host

    def addresses(self, host, port, timeout):
        """The addresses to connect to, resolved within ``timeout`` seconds (TimeoutError);
        unless the host is allow-listed, each one public (ValueError names the first that
        is not)."""
        addresses = list(dict.fromkeys(resolve(host, port, timeout)))
        for address in addresses:
            if not self.trusted and host_is_internal(host_key(address)):
                raise ValueError(address)
        return addresses

    @contextlib.contextmanager
    def applied(self):
        token = _CURRENT.set(self)
        try:
            yield self
        finally:
            _CURRENT.reset(token)


def current_policy():
    return _CURRENT.get()


def resolve(host, port, timeout):
    """``getaddrinfo(host, port)`` for TCP, given up after ``timeout`` seconds
    (TimeoutError); the resolver's own errors (OSError) are raised as they are."""
    outcome = {}

    def lookup():
        try:
            outcome["addresses"] = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except OSError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=lookup, name="ledgersync-resolve", daemon=True)
    thread.start()
    thread.join(max(timeout, 0.0))
    if thread.is_alive():
        raise TimeoutError(f"name resolution took longer than {timeout:.1f}s")
    if "error" in outcome:
        raise outcome["error"]
    return [info[4][0] for info in outcome["addresses"]]
