"""Sync logic: pure mapping and diffing (mapping.py), the engine that applies it (engine.py)."""
