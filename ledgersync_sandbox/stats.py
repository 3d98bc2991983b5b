"""Request accounting: how many requests of each kind the sandbox answered, and how."""

import copy
import threading

# what a request is counted as: the API endpoint it reached, "other" (an unknown API path or
# a wrong method) or "admin" (/_sandbox/...)
REQUEST_KINDS = ("login", "clients", "bank_accounts", "transactions", "other", "admin")


class RequestStats:
    """Thread-safe request counters. ``snapshot()`` is what ``SandboxApp.stats`` and
    ``GET /_sandbox/stats`` show."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self._stats = {
                **dict.fromkeys(REQUEST_KINDS, 0),
                "total": 0,  # API requests (admin ones left out)
                "by_path": {},
                "by_status": {},  # "200" -> count
                "by_account": {},  # transactions calls per bank account id
                "faults_fired": 0,
            }

    def snapshot(self):
        with self._lock:
            return copy.deepcopy(self._stats)

    def count(self, kind, path, status, account=None):
        """Count one request; admin requests only count as ``admin``."""
        with self._lock:
            stats = self._stats
            stats[kind] = stats.get(kind, 0) + 1
            if kind == "admin":
                return
            stats["total"] += 1
            stats["by_path"][path] = stats["by_path"].get(path, 0) + 1
            key = str(status)
            stats["by_status"][key] = stats["by_status"].get(key, 0) + 1
            if account is not None:
                stats["by_account"][account] = stats["by_account"].get(account, 0) + 1

    def fault_fired(self):
        with self._lock:
            self._stats["faults_fired"] += 1
