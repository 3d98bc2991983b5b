"""Sync logic: pure mapping and diffing (mapping.py), the engine that applies it (engine.py,
its first phase in structure.py), the units of work it commits and rolls back to
(commits.py), the collisions between workers it expects (conflicts.py), the time a cron
call may use (budget.py)."""
