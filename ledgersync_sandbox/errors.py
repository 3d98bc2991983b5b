"""The sandbox's one error type, and shorthands for the common API errors."""


class SandboxError(Exception):
    """An API error: HTTP ``status`` and ``{"error": {"code", "message"}}``. The Python mutation
    API raises it too (``status`` 404 for unknown ids, 400 for bad values, 409 for conflicts)."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def bad_request(message):
    """400 ``bad_request``: a parameter or a body the contract does not allow."""
    return SandboxError(400, "bad_request", message)


def not_found(what):
    """404 ``not_found``: ``what`` (an id, a fault, an endpoint) does not exist."""
    return SandboxError(404, "not_found", f"{what} not found")


def conflict(message):
    """409 ``conflict``: the change cannot be made in the current state."""
    return SandboxError(409, "conflict", message)
