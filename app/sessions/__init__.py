"""Charging sessions (transactions), meter values, offline reconciliation."""
