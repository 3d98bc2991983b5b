"""A small LedgerSync API server for demos, end-to-end tests and benchmarks.

Speaks the contract in ``docs/ledgersync-api.md`` over real HTTP, with a deterministic
seeded data set generated on the fly, a mutation overlay for incremental-sync tests,
fault injection and request accounting. Pure Python (werkzeug + stdlib), no Odoo.

    from ledgersync_sandbox import SandboxConfig, serve_in_thread
    with serve_in_thread(SandboxConfig(clients=3)) as sandbox:
        sandbox.base_url, sandbox.app.faults.add("rate_limit", count=2)
"""

from .app import SandboxApp
from .auth import BUILTIN_LOGINS
from .config import DEFAULT_LIMIT, MAX_LIMIT, Clock, SandboxConfig
from .errors import SandboxError
from .faults import FAULT_KINDS, Fault, FaultSet
from .server import SandboxServer, serve_in_thread

__all__ = [
    "BUILTIN_LOGINS",
    "DEFAULT_LIMIT",
    "FAULT_KINDS",
    "MAX_LIMIT",
    "Clock",
    "Fault",
    "FaultSet",
    "SandboxApp",
    "SandboxConfig",
    "SandboxError",
    "SandboxServer",
    "serve_in_thread",
]
