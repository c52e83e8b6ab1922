"""Roaming: partners that exchange locations, sessions, CDRs and tokens over OCPI."""
