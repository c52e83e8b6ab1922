"""Sites, stations, EVSEs and connectors."""
