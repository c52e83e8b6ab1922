"""OCPI 2.2.1 (with the errata of the 2.2.1 bug-fix branch)."""
