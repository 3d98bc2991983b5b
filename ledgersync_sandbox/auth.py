"""Logins, login states and bearer tokens of the sandbox.

A login (email, case-insensitive) has a password, a firm whose data it sees and a state;
only ``active`` logins get tokens. Tokens live ``token_ttl`` seconds on the sandbox clock.
"""

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from .data import FIRMS
from .errors import SandboxError, bad_request

# state -> the message of the 403 that login and data calls answer (None: may sign in)
LOGIN_STATES = {
    "active": None,
    "subscription_inactive": "The LedgerSync subscription of this firm is inactive.",
    "account_suspended": "This LedgerSync account is suspended.",
    "account_locked": "This LedgerSync account is locked after too many failed sign-ins.",
}


class BuiltinLogin(NamedTuple):
    firm: str  # key of FIRMS: demo, other, empty
    state: str  # key of LOGIN_STATES


# email -> BuiltinLogin; every one has the config's password
BUILTIN_LOGINS = {
    "demo@ledgersync.test": BuiltinLogin("demo", "active"),
    "other@ledgersync.test": BuiltinLogin("other", "active"),
    "empty@ledgersync.test": BuiltinLogin("empty", "active"),
    "inactive@ledgersync.test": BuiltinLogin("demo", "subscription_inactive"),
    "suspended@ledgersync.test": BuiltinLogin("demo", "account_suspended"),
    "locked@ledgersync.test": BuiltinLogin("demo", "account_locked"),
}


@dataclass
class Login:
    password: str
    firm: str
    state: str


@dataclass
class Token:
    email: str  # the login's key (lower case)
    firm: str
    expires_at: datetime


def _invalid_credentials():
    return SandboxError(401, "invalid_credentials", "Invalid email or password.")


def _invalid_token():
    return SandboxError(401, "invalid_token", "The access token is not valid.")


def _refused(state):
    return SandboxError(403, state, LOGIN_STATES[state])


class Auth:
    """Logins and issued tokens, guarded by one lock. ``token_ttl`` may change at run time."""

    def __init__(self, config, clock):
        self.config = config
        self.clock = clock
        self._lock = threading.RLock()
        self.reset()

    def reset(self):
        """Back to the built-in logins, no token, no failed sign-in, the configured TTL."""
        with self._lock:
            self.token_ttl = self.config.token_ttl
            self._logins = {
                email: Login(self.config.password, builtin.firm, builtin.state)
                for email, builtin in BUILTIN_LOGINS.items()
            }
            self._failures = {}  # email -> wrong passwords in a row
            self._tokens = {}  # token -> Token

    def login(self, email, password):
        """Check credentials -> the login response body; raises SandboxError (401/403)."""
        if not isinstance(email, str) or not isinstance(password, str) or not email.strip():
            raise bad_request("email and password are required strings")
        key = email.strip().lower()
        with self._lock:
            login = self._logins.get(key)
            if login is None:
                raise _invalid_credentials()
            if login.state == "account_locked":
                raise _refused("account_locked")
            if not secrets.compare_digest(password.encode(), login.password.encode()):
                failures = self._failures.get(key, 0) + 1
                self._failures[key] = failures
                if self.config.lockout_after and failures >= self.config.lockout_after:
                    login.state = "account_locked"
                raise _invalid_credentials()
            self._failures.pop(key, None)
            if login.state != "active":
                raise _refused(login.state)
            token = "lsbx_" + secrets.token_urlsafe(24)
            ttl = int(self.token_ttl)
            expires_at = self.clock.now() + timedelta(seconds=ttl)
            self._tokens[token] = Token(key, login.firm, expires_at)
            return {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": ttl,
                "account": {
                    "firm_name": FIRMS[login.firm].name,
                    "subscription_status": "active",
                    "account_status": "active",
                },
            }

    def authenticate(self, authorization):
        """``Authorization`` header value -> the token's firm; raises SandboxError 401/403."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise SandboxError(
                401, "invalid_token", "A bearer token is required (Authorization: Bearer <token>)."
            )
        with self._lock:
            info = self._tokens.get(token)
            if info is None:
                raise _invalid_token()
            if self.clock.now() >= info.expires_at:
                raise SandboxError(
                    401, "token_expired", "The access token has expired; log in again."
                )
            login = self._logins.get(info.email)
            if login is None:
                raise _invalid_token()
            if login.state != "active":
                raise _refused(login.state)
            return info.firm

    def expire_tokens(self, email=None):
        """Expire every issued token (or one login's): data calls then answer 401 token_expired."""
        with self._lock:
            past = self.clock.now() - timedelta(seconds=1)
            count = 0
            for info in self._tokens.values():
                if email is None or info.email == email.strip().lower():
                    info.expires_at = min(info.expires_at, past)
                    count += 1
            return count

    def revoke_tokens(self, email=None):
        """Forget issued tokens (or one login's): data calls then answer 401 invalid_token."""
        with self._lock:
            doomed = [
                token
                for token, info in self._tokens.items()
                if email is None or info.email == email.strip().lower()
            ]
            for token in doomed:
                del self._tokens[token]
            return len(doomed)

    def set_login(self, email, *, password=None, state=None, firm=None, expire_tokens=True):
        """Create or change a login. ``state``: active | subscription_inactive | account_suspended |
        account_locked. A password change expires that login's tokens (unless told not to), so
        the client's re-login then meets 401 invalid_credentials."""
        if state is not None and state not in LOGIN_STATES:
            raise bad_request(f"state must be one of {', '.join(LOGIN_STATES)}")
        if firm is not None and firm not in FIRMS:
            raise bad_request(f"firm must be one of {', '.join(FIRMS)}")
        if password is not None and not isinstance(password, str):
            raise bad_request("password must be a string")
        key = email.strip().lower()
        with self._lock:
            login = self._logins.get(key)
            if login is None:
                login = self._logins[key] = Login(self.config.password, "demo", "active")
            if password is not None and password != login.password:
                login.password = password
                if expire_tokens:
                    self.expire_tokens(key)
            if state is not None:
                login.state = state
                if state == "active":
                    self._failures.pop(key, None)
            if firm is not None:
                login.firm = firm
            return self._login_info(key)

    def _login_info(self, key):
        login = self._logins[key]
        return {
            "email": key,
            "firm": login.firm,
            "firm_name": FIRMS[login.firm].name,
            "state": login.state,
        }

    def logins(self):
        """Every login (email, firm, firm_name, state), by email; passwords are left out."""
        with self._lock:
            return [self._login_info(key) for key in sorted(self._logins)]
