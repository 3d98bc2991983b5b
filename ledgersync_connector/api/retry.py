"""urllib3 retry policy of the LedgerSync client.

urllib3 copies a Retry through ``Retry.new()`` at every attempt, passing only its own
constructor arguments; our settings therefore live in one shared ``RetryControl`` that
``new()`` hands on to each copy. Works with urllib3 1.26 and 2.x.
"""

from dataclasses import dataclass, field

from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from .addresses import AddressRefused


@dataclass
class RetryControl:
    """Settings and counters shared by every copy of one client's retry policy."""

    cap: float = 30.0  # longest single wait between two attempts, in seconds
    enabled: bool = True  # False: one attempt per request (verify() and its deadline)
    counters: dict = field(default_factory=dict)  # the client's stats, updated in place

    def count_retry(self):
        for key in ("retries", "api_calls"):
            self.counters[key] = self.counters.get(key, 0) + 1


class LedgerSyncRetry(Retry):
    """Retry GETs only, wait at most ``control.cap`` seconds, count every repeated attempt."""

    def __init__(self, *args, control=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.control = control or RetryControl()

    def new(self, **kw):
        retry = super().new(**kw)
        retry.control = self.control
        return retry

    def _single_attempt(self, method):
        # A login (POST) is never repeated, even after a connection error: LedgerSync
        # locks an account after repeated failed sign-ins.
        return not self.control.enabled or not self._is_method_retryable(method or "")

    def is_retry(self, method, status_code, has_retry_after=False):
        if self._single_attempt(method):
            return False
        return super().is_retry(method, status_code, has_retry_after)

    def increment(self, method=None, url=None, *args, **kwargs):
        refused = isinstance(kwargs.get("error"), AddressRefused)  # the same answer again
        if refused or self._single_attempt(method):
            # What requests does without retries: connection errors end in MaxRetryError,
            # read errors are re-raised as they are.
            return Retry(total=0, read=False).increment(method, url, *args, **kwargs)
        retry = super().increment(method, url, *args, **kwargs)
        self.control.count_retry()  # reached only when another attempt will be made
        response = kwargs.get("response", args[0] if args else None)
        if response is not None:
            # urllib3 reads ("drains") the body of an answer it retries, however large:
            # dropping the connection instead leaves nothing to read (the next attempt
            # opens a new one).
            response.close()
        return retry

    def get_retry_after(self, response):
        try:
            seconds = super().get_retry_after(response)
        except (InvalidHeader, ValueError, OverflowError):
            # Unreadable or absurd Retry-After ("9" * 5000, year 99999): fall back to the
            # exponential backoff.
            return None
        return None if seconds is None else min(seconds, self.control.cap)

    def get_backoff_time(self):
        return min(super().get_backoff_time(), self.control.cap)


def build_retry(*, max_retries, statuses, backoff_factor, control):
    """The policy mounted on the client's HTTPAdapter."""
    return LedgerSyncRetry(
        total=max_retries,
        connect=max_retries,
        read=max_retries,
        status=max_retries,
        other=0,
        redirect=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=frozenset(statuses),
        backoff_factor=backoff_factor,
        raise_on_status=False,  # the last answer is mapped to a typed error by the client
        raise_on_redirect=False,
        respect_retry_after_header=True,
        control=control,
    )
