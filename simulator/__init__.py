"""`cpms simulate`: simulated charging stations (OCPP 1.6J and 2.0.1) for tests, benchmarks
and operators trying their own deployment."""
