"""Piccolo migrations for the `cpms` app: one history for SQLite and PostgreSQL."""
