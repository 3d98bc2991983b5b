"""Keeping the password and the tokens out of every message the API client lets out.

A server may echo a secret in another spelling than the one we sent: in another case,
URL-encoded, in base64 (alone, or inside a longer base64 text such as a Basic
``email:password`` header), JSON- or HTML-escaped. Every such form is replaced by ``***``,
and so is the start of a secret that a message cut short before its end (``Sup3r-Se...``).
"""

import base64
import html
import json
import re
from contextlib import contextmanager
from urllib.parse import quote, quote_plus

from .. import const
from . import errors

# Shorter base64 fragments (of a secret found at any offset of a longer base64 text) would
# match ordinary words: they are left out.
MIN_BASE64_FRAGMENT = 8
# The start of a secret just before "..." (a cut message) is scrubbed from this length on.
MIN_CUT_PREFIX = 3
CUT_MARK = "..."
# What requests leaves unescaped when it re-quotes a URL.
_REQUOTE_SAFE = "!#$%&'()*+,/:;=?@[]~"


def _base64_forms(secret):
    """The base64 spellings of ``secret``: whole (padded or not, standard or URL-safe), and
    the part of the encoding that stays the same wherever the secret sits in a longer
    encoded text (for each of the three byte offsets)."""
    data = secret.encode("utf-8")
    forms = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(data).decode("ascii")
        forms.update({whole, whole.rstrip("=")})
        for offset, skip in ((0, 0), (1, 2), (2, 3)):
            size = offset + len(data)
            # Characters that depend only on the secret's bytes: not the first ones (they mix
            # in what comes before), not the last partial one (it mixes in what follows).
            end = 4 * (size // 3) + size % 3
            fragment = encode(b"\0" * offset + data).decode("ascii")[skip:end]
            if len(fragment) >= MIN_BASE64_FRAGMENT:
                forms.add(fragment)
    return forms


def secret_forms(secret):
    """Every spelling of ``secret`` that is scrubbed (matched regardless of case)."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote(secret, safe=_REQUOTE_SAFE),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        json.dumps(secret)[1:-1].replace("/", "\\/"),
        html.escape(secret),
        html.escape(secret, quote=False),
    }
    forms |= _base64_forms(secret)
    return {form for form in forms if form}


class Scrubber:
    """Replaces known secrets, in any of their forms, by ``***``; a secret once added
    stays known."""

    def __init__(self, password=None):
        self._secrets = []
        self._pattern = None
        self._forms = ()
        self.add(password)

    def add(self, secret):
        if secret and isinstance(secret, str) and secret not in self._secrets:
            self._secrets.append(secret)
            self._pattern = None

    def _compile(self):
        if self._pattern is None:
            forms = set()
            for secret in self._secrets:
                forms |= secret_forms(secret)
            # Longest first: a whole encoding wins over its own fragment.
            self._forms = tuple(sorted(forms, key=len, reverse=True))
            alternatives = "|".join(re.escape(form) for form in self._forms)
            self._pattern = re.compile(alternatives or r"(?!)", re.IGNORECASE)
        return self._pattern

    def scrub(self, text):
        if not isinstance(text, str) or not self._secrets:
            return text
        return self._scrub_cut_prefixes(self._compile().sub("***", text))

    def _scrub_cut_prefixes(self, text):
        """Replace the start of a secret that ends at a cut mark ("Sup3r-Se...")."""
        position = text.find(CUT_MARK)
        while position != -1:
            head = text[:position].lower()
            longest = 0
            for form in self._forms:
                for length in range(min(len(form), len(head)), MIN_CUT_PREFIX - 1, -1):
                    if length <= longest:
                        break
                    if head.endswith(form[:length].lower()):
                        longest = length
                        break
            if longest:
                text = text[: position - longest] + "***" + text[position:]
                position += 3 - longest
            position = text.find(CUT_MARK, position + len(CUT_MARK))
        return text

    def server_text(self, text):
        """A server-provided message made safe to show: one line of printable characters,
        no secrets, at most ``const.SERVER_MESSAGE_MAX_CHARS`` characters."""
        if not isinstance(text, str):
            return None
        text = self.scrub(text)
        text = "".join(char if char.isprintable() else " " for char in text)
        text = self.scrub(" ".join(text.split()))
        limit = const.SERVER_MESSAGE_MAX_CHARS
        if len(text) > limit:
            text = self.scrub(text[: limit - len(CUT_MARK)] + CUT_MARK)
        return text

    @contextmanager
    def scrubbing(self):
        """Let no error leave with the password or a token in its message."""
        try:
            yield
        except errors.LedgerSyncError as exc:
            exc.replace_message(self.scrub(exc.message))
            raise
