"""Persistence: engines, tables, migrations and the blob store."""
