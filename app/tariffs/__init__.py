"""Tariffs: the OCPI 2.2.1 tariff model and the price calculator."""
