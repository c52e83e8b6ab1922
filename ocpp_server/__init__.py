"""OCPP adapter: the websocket endpoint chargers connect to."""
