"""Reading an answer's body within a size cap, decompressing it within the same cap.

Requests are sent with ``stream=True``: nothing of the body is read before these checks.
An announced ``Content-Length`` over the cap is refused without reading a byte; otherwise
the body is read in chunks, and gzip/deflate is decoded here (``zlib`` with an output
limit) rather than by urllib3, so a small compressed body cannot expand past the cap.
"""

import zlib

from urllib3.response import HTTPResponse

from .. import const
from . import errors

DECODED_ENCODINGS = frozenset({"gzip", "x-gzip", "deflate"})


def _size(limit):
    return f"{limit // 1024} KB" if limit % 1024 == 0 else f"{limit} bytes"


def too_large(what, limit):
    return errors.ProtocolError(
        f"LedgerSync's answer to {what} is too large (over {_size(limit)}): the base URL "
        "may not point to the LedgerSync API."
    )


def _declared_length(response):
    value = response.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _raw_chunks(raw, chunk_size):
    """The body as sent (still compressed), in chunks."""
    if isinstance(raw, HTTPResponse):
        read = lambda: raw.read(chunk_size, decode_content=False)  # noqa: E731
    else:  # a file-like body (test doubles)
        read = lambda: raw.read(chunk_size)  # noqa: E731
    while True:
        chunk = read()
        if not chunk:
            return
        yield chunk


class _Decoder:
    """gzip or deflate (zlib-wrapped) content, decoded with a bound on the output."""

    def __init__(self, encoding):
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 32) if encoding else None

    def decode(self, chunk, room):
        """At most ``room`` + 1 bytes of decoded ``chunk`` (more means: over the cap)."""
        if self._zlib is None:
            return chunk
        # With input left over, the output is room + 1 bytes long: over the cap.
        return self._zlib.decompress(chunk, room + 1)

    def finish(self):
        if self._zlib is not None and not self._zlib.eof:
            raise zlib.error("truncated compressed answer")


def read_body(response, what, *, max_bytes=None, chunk_size=None):
    """The whole body of ``response`` (decoded), or ProtocolError when it exceeds the cap.

    The body ends up in ``response._content``, as if requests had read it, so that
    ``response.content`` and ``response.json()`` work as usual. Transport errors raised
    while reading are left to the caller.
    """
    limit = const.MAX_RESPONSE_BYTES if max_bytes is None else max_bytes
    chunk_size = chunk_size or const.RESPONSE_CHUNK_BYTES
    declared = _declared_length(response)
    if declared is not None and declared > limit:
        response.close()  # not a byte of it read: the connection is dropped
        raise too_large(what, limit)
    encoding = (response.headers.get("Content-Encoding") or "").strip().lower()
    if encoding in ("", "identity"):
        encoding = None
    elif encoding not in DECODED_ENCODINGS:
        response.close()
        raise errors.ProtocolError(
            f"LedgerSync's answer to {what} uses an unsupported content encoding."
        )
    decoder, parts, size = _Decoder(encoding), [], 0
    try:
        for chunk in _raw_chunks(response.raw, chunk_size):
            decoded = decoder.decode(chunk, limit - size)
            size += len(decoded)
            if size > limit:
                response.close()
                raise too_large(what, limit)
            parts.append(decoded)
        decoder.finish()
    except zlib.error:
        response.close()
        raise errors.ProtocolError(
            f"LedgerSync's answer to {what} is not valid {encoding} data."
        ) from None
    response._content = b"".join(parts)
    response._content_consumed = True
    response.close()  # the whole body is read: the connection goes back to the pool
    return response._content
