"""OCPI 2.1.1, served from the same domain as 2.2.1."""
