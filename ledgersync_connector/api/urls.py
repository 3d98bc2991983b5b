"""The API base URL: which hosts the client may talk to, and how.

LedgerSync is a public service: its base URL names a public host over https. A host that is
not public (a private, loopback, link-local, multicast or otherwise reserved address, in
any spelling the resolver accepts, or a ``localhost`` name) is refused unless it is in the
allow-list, which also permits plain http. The allow-list comes from the caller (the addon
reads the Odoo option ``ledgersync_allowed_hosts``); by default it holds the local hosts
of the sandbox (``const.DEFAULT_ALLOWED_HOSTS``). Names are not resolved here: each
connection checks the addresses its host resolves to (addresses.py).
"""

import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

from .. import const
from . import errors

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_OPTION = "ledgersync_allowed_hosts"


def host_key(host):
    """A host as the allow-list compares it: lower case, no brackets, no trailing dot,
    an address in its canonical form."""
    host = host.strip().strip("[]").rstrip(".").lower()
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        return host


def parse_allowed_hosts(text):
    """The allow-list from the option's text (comma-separated hosts); None: the default."""
    if text is None or text is False:
        return const.DEFAULT_ALLOWED_HOSTS
    return frozenset(host_key(item) for item in str(text).split(",") if item.strip())


def _address(host):
    """The IP address a host literal stands for, in any spelling the system resolver
    accepts ("127.1", "0x7f000001", "2130706433", "fe80::1%eth0"), or None for a name."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        try:  # the legacy IPv4 spellings: "127.1", "0x7f000001", "2130706433", octal
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except (OSError, ValueError):
            return None


def _is_public(address):
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_global and not address.is_multicast


def host_is_internal(host):
    """Does ``host`` (a host key) name this machine or a non-public network?"""
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return True
    address = _address(host)
    return address is not None and not _is_public(address)


def validate_base_url(url, allowed_hosts=None):
    """The normalized API base URL, or ConfigurationError.

    https and a public host are required, except for the hosts of ``allowed_hosts``
    (a set of hosts as ``parse_allowed_hosts`` gives; None: ``const.DEFAULT_ALLOWED_HOSTS``).
    """
    if allowed_hosts is None:
        allowed_hosts = const.DEFAULT_ALLOWED_HOSTS
    if not isinstance(url, str) or not url.strip():
        raise errors.ConfigurationError("The LedgerSync API base URL is empty.")
    url = url.strip()
    if any(char.isspace() or ord(char) < 32 for char in url):
        raise errors.ConfigurationError("The LedgerSync API base URL contains spaces.")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port  # raises ValueError on a port that is not a number
    except ValueError:
        port = 0
    if port == 0:
        raise errors.ConfigurationError("The LedgerSync API base URL is malformed.")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise errors.ConfigurationError("The LedgerSync API base URL must start with https://.")
    if not host:
        raise errors.ConfigurationError("The LedgerSync API base URL has no host name.")
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL end up in logs; LedgerSync's go in the request body.
        raise errors.ConfigurationError("The LedgerSync API base URL must not contain a password.")
    if parts.query or parts.fragment:
        raise errors.ConfigurationError("The LedgerSync API base URL must not have a query.")
    key = host_key(host)
    if key not in {host_key(allowed) for allowed in allowed_hosts}:
        if scheme == "http":
            raise errors.ConfigurationError(
                "The LedgerSync API base URL must use https:// (plain http only for the "
                f"hosts of the {_OPTION} option)."
            )
        if host_is_internal(key):
            raise errors.ConfigurationError(
                "The LedgerSync API base URL names a local or private address; such a host "
                f"must be listed in the {_OPTION} option of the Odoo server."
            )
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
