"""Persistence: tables, the engine, migrations and the queries the core relies on."""
