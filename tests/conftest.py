"""Fixtures of the sandbox tests (tests/test_sandbox_*.py); their helpers are in
tests/sandbox_support.py."""

import pytest
from sandbox_support import config

from ledgersync_sandbox import serve_in_thread


@pytest.fixture
def sandbox():
    """A sandbox serving ``sandbox_support.config()`` on a free port of 127.0.0.1."""
    with serve_in_thread(config()) as server:
        yield server
