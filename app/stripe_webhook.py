"""`POST /webhooks/stripe`: Stripe's events, signature first. A bad signature is 400 and
changes nothing; an event is applied once, however often it is delivered."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.billing import payments
from app.billing.provider import InvalidSignature, PaymentsDisabled
from app.runtime import Runtime


async def stripe_webhook(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    payload = await request.body()
    try:
        event = runtime.payments.webhook_event(payload, request.headers.get("stripe-signature", ""))
    except InvalidSignature as error:
        return JSONResponse({"error": error.message}, status_code=400)
    except PaymentsDisabled as error:
        return JSONResponse({"error": error.message}, status_code=503)
    applied = await payments.record_webhook(runtime.unit_of_work(), event)
    return JSONResponse({"received": True, "duplicate": not applied})
