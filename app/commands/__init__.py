"""Remote commands to charging stations, whichever OCPP version and node they are on."""
