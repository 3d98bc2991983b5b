"""The API host's name, resolved: a public-looking name that points inward is refused, the
connection goes to the very addresses that were checked, and a lookup that never ends is
cut by the request's deadline.

The resolver (``socket.getaddrinfo``) and urllib3's connect step are patched: no test here
resolves a real name or opens a socket.
"""

import socket
import time

import pytest
import urllib3.util.connection

from ledgersync_connector.api import LedgerSyncApiClient, errors

NAME = "api.ledgersync.test"
PUBLIC = "8.8.8.8"
EMAIL = "firm@example.com"
PASSWORD = "Sup3r-Secret-Pw!"


class Resolver:
    """getaddrinfo for NAME: ``answers`` in turn (the last one repeats); other hosts (the
    IP literals urllib3 connects to) resolve as themselves."""

    def __init__(self, *answers, delay=0.0):
        self.answers = list(answers)
        self.delay = delay
        self.lookups = 0

    def __call__(self, host, port, *args, **kwargs):
        if host != NAME:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (host, port))]
        self.lookups += 1
        time.sleep(self.delay)
        answer = self.answers[min(self.lookups, len(self.answers)) - 1]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in answer]


@pytest.fixture
def connects(monkeypatch):
    """The addresses urllib3 was asked to connect to; each connect is refused."""
    seen = []

    def create_connection(address, *args, **kwargs):
        seen.append(address[0])
        raise ConnectionRefusedError("refused by the test")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    return seen


def client(allowed_hosts=None, **options):
    return LedgerSyncApiClient(
        f"https://{NAME}", EMAIL, PASSWORD, allowed_hosts=allowed_hosts, **options
    )


def list_clients(api):
    api.token = "tok-1"
    return next(api.iter_client_pages())


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "fd00::1", "::ffff:10.0.0.1"]
)
def test_a_name_pointing_inward_is_refused_before_connecting(monkeypatch, connects, address):
    resolver = Resolver([PUBLIC, address])
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with pytest.raises(errors.ConfigurationError, match="local or private address") as caught:
        list_clients(client(max_retries=3, backoff_factor=0))
    assert caught.value.code == "invalid_base_url"
    assert connects == []
    assert resolver.lookups == 1  # refused for good: not retried like a network error


def test_an_allowed_name_may_point_inward(monkeypatch, connects):
    monkeypatch.setattr(socket, "getaddrinfo", Resolver(["10.1.2.3"]))
    with pytest.raises(errors.Unreachable):
        list_clients(client(allowed_hosts={NAME}, max_retries=0))
    assert connects == ["10.1.2.3"]


def test_the_connection_goes_to_the_addresses_checked(monkeypatch, connects):
    # Rebinding: the first lookup says public, any later one says loopback.
    resolver = Resolver([PUBLIC], ["127.0.0.1"])
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with pytest.raises(errors.Unreachable):
        list_clients(client(max_retries=0))
    assert connects == [PUBLIC]
    assert resolver.lookups == 1


def test_each_address_is_tried_in_turn(monkeypatch, connects):
    monkeypatch.setattr(socket, "getaddrinfo", Resolver([PUBLIC, "1.1.1.1"]))
    with pytest.raises(errors.Unreachable):
        list_clients(client(max_retries=0))
    assert connects == [PUBLIC, "1.1.1.1"]


def test_a_lookup_that_never_ends_is_cut_by_the_deadline(monkeypatch, connects):
    monkeypatch.setattr(socket, "getaddrinfo", Resolver([PUBLIC], delay=5))
    started = time.monotonic()
    with pytest.raises(errors.Unreachable) as caught:
        list_clients(client(timeout=0.5, max_retries=0))
    assert time.monotonic() - started < 2
    assert caught.value.code == "timeout"
    assert connects == []


def test_a_name_that_does_not_resolve_is_unreachable(monkeypatch, connects):
    def fail(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(errors.Unreachable, match="could not be reached"):
        list_clients(client(max_retries=0))
    assert connects == []
