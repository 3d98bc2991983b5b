"""Keeping the password and the tokens out of every message the API client lets out."""

from contextlib import contextmanager

from .. import const
from . import errors


class Scrubber:
    """Replaces known secrets by ``***``; a secret once added stays known."""

    def __init__(self, password=None):
        self._password = password
        self._secrets = set()

    def add(self, secret):
        if secret:
            self._secrets.add(secret)

    def scrub(self, text):
        for secret in (self._password, *self._secrets):
            if secret and isinstance(secret, str):
                text = text.replace(secret, "***")
        return text

    def server_text(self, text):
        """A server-provided message made safe to show: one line, no secrets, short."""
        if not isinstance(text, str):
            return None
        text = self.scrub(" ".join(self.scrub(text).split()))
        limit = const.SERVER_MESSAGE_MAX_CHARS
        return text if len(text) <= limit else text[: limit - 3] + "..."

    @contextmanager
    def scrubbing(self):
        """Let no error leave with the password or a token in its message."""
        try:
            yield
        except errors.LedgerSyncError as exc:
            exc.replace_message(self.scrub(exc.message))
            raise
