"""The requests Session of the API client: authorization, retries, deadlines, failures."""

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.poolmanager import PoolManager, ProxyManager

from .. import const
from . import errors
from .addresses import AddressRefused, ResolutionTimeout, current_policy
from .deadline import current_watch
from .retry import build_retry


class BearerAuth(AuthBase):
    """Sets the Authorization header; passing an auth object also keeps ~/.netrc out of it."""

    def __init__(self, token):
        self._token = token

    def __call__(self, request):
        if self._token:
            request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self):
        return "<BearerAuth ***>"


class _GuardedConnection:
    """Connects to the API host only at addresses that addresses.py checked."""

    def _new_conn(self):
        policy = current_policy()
        if policy is None or not policy.applies_to(self._dns_host):
            return super()._new_conn()
        watch = current_watch()
        seconds = watch.time_left() if watch is not None else const.REQUEST_TIMEOUT
        try:
            addresses = policy.addresses(self._dns_host, self.port, seconds)
        except ValueError:
            raise AddressRefused(self, f"{self.host} resolves to a non-public address") from None
        except TimeoutError:
            raise ResolutionTimeout(f"{self.host} did not resolve in time") from None
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to resolve {self.host}: {exc}") from None
        name, error = self._dns_host, None
        for address in addresses:  # as urllib3 does: the first address that answers
            self._dns_host = address  # TLS still checks the certificate against self.host
            try:
                return super()._new_conn()
            except NewConnectionError as exc:
                error = exc
            finally:
                self._dns_host = name
        raise error


class _WatchedPool:
    """Reports each connection it hands out (one per attempt) to the request's deadline
    watch (deadline.py), which shuts it down when the attempt outlives its time."""

    def _get_conn(self, timeout=None):
        connection = super()._get_conn(timeout=timeout)
        watch = current_watch()
        if watch is not None:
            watch.attach(connection)
        return connection


class _WatchedConnection:
    """Reports its socket to the request's deadline watch once connected: when an answer
    ends the connection (``Connection: close``), http.client takes the socket away from
    the connection while the body is still read from it."""

    def connect(self):
        result = super().connect()
        watch = current_watch()
        if watch is not None:
            watch.attach_socket(self.sock)
        return result


class LedgerSyncHTTPConnection(_WatchedConnection, _GuardedConnection, HTTPConnection):
    pass


class LedgerSyncHTTPSConnection(_WatchedConnection, _GuardedConnection, HTTPSConnection):
    pass


class WatchedHTTPConnectionPool(_WatchedPool, HTTPConnectionPool):
    ConnectionCls = LedgerSyncHTTPConnection


class WatchedHTTPSConnectionPool(_WatchedPool, HTTPSConnectionPool):
    ConnectionCls = LedgerSyncHTTPSConnection


POOL_CLASSES = {"http": WatchedHTTPConnectionPool, "https": WatchedHTTPSConnectionPool}


class LedgerSyncAdapter(HTTPAdapter):
    """urllib3's pools, watched (direct connections and http(s) proxies; a SOCKS proxy
    keeps its own pools, and only the per-read timeouts)."""

    def init_poolmanager(self, *args, **kwargs):
        result = super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOL_CLASSES
        return result

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) in (PoolManager, ProxyManager):
            manager.pool_classes_by_scheme = POOL_CLASSES
        return manager


def build_session(*, max_retries, backoff_factor, retry_control):
    """A Session sending JSON requests, with the retry policy mounted for http(s)."""
    session = requests.Session()
    session.headers.update(
        {
            "Accept": "application/json",
            # Decoded by body.py within the size cap; no other encoding is asked for.
            "Accept-Encoding": "gzip, deflate",
            "User-Agent": const.USER_AGENT,
        }
    )
    retry = build_retry(
        max_retries=max_retries,
        statuses=const.RETRY_STATUSES,
        backoff_factor=backoff_factor,
        control=retry_control,
    )
    adapter = LedgerSyncAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def is_timeout(exc):
    """Did a request fail because LedgerSync did not answer in time (vs. not reachable)?"""
    if isinstance(exc, (requests.Timeout, ReadTimeoutError)):
        return True
    cause = _cause(exc)
    if isinstance(cause, NewConnectionError):  # a ConnectTimeoutError subclass, oddly
        return False
    return isinstance(cause, (ReadTimeoutError, ConnectTimeoutError, TimeoutError))


def transport_error(exc, host):
    """The error for a request to ``host`` that got no answer: Unreachable, or
    ConfigurationError when the host resolved to an address it may not use."""
    if isinstance(_cause(exc), AddressRefused):
        return errors.ConfigurationError(
            f"The LedgerSync API host {host} resolves to a local or private address; such "
            "a host must be listed in the ledgersync_allowed_hosts option of the Odoo server."
        )
    if is_timeout(exc):
        return timeout_error(host)
    if isinstance(exc, requests.exceptions.SSLError):
        return errors.Unreachable(
            f"The secure connection to LedgerSync at {host} failed (certificate or TLS)."
        )
    return errors.Unreachable(f"LedgerSync at {host} could not be reached ({type(exc).__name__}).")


def _cause(exc):
    """The urllib3 error behind a requests error."""
    cause = exc.args[0] if exc.args else None
    return getattr(cause, "reason", cause)  # urllib3's MaxRetryError wraps the last error


def timeout_error(host):
    return errors.Unreachable.timeout(f"LedgerSync at {host} did not answer in time.")
