"""The OCPI adapter: roaming partners (eMSPs, hubs) call us here, and we call them from here.

`routes.py` holds the HTTP endpoints, `envelope.py` the response form every answer has,
`peers.py` our calls to partners (the roaming domain's `RoamingPeers` port), and `v221/` the
OCPI 2.2.1 objects and handlers. Handlers parse, call one service function of
`app.roaming` and map the result; no SQL and no business rule lives here."""
