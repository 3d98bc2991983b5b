"""Sync logic: pure mapping and diffing (mapping.py), the engine that applies it (engine.py),
the units of work it commits and rolls back to (commits.py)."""
