"""OCPP adapter: the websocket endpoint chargers connect to."""

import ocpp.messages

# The library validates payloads in a thread pool by default; inline is ~20% cheaper per
# message (measured) and keeps the order of work on the event loop.
ocpp.messages.ASYNC_VALIDATION = False
