"""Id tokens go to 2.0.1 stations with the type they are registered with, and a card is found
by its uid whatever type a station reports it as."""

import asyncio
from typing import Any

from ocpp.routing import after, on
from ocpp.v201 import ChargePoint as Client201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

from app.commands import models
from app.commands.service import send_command
from db.tables import IdToken
from tests.ocpp_server.test_commands import booted


class StrictStation(Client201):
    """Like a compliant station: before starting, it authorizes the IdToken it was sent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.verdicts: asyncio.Queue[str] = asyncio.Queue()
        self.local_list: list[dict] = []

    @on(Action201.request_start_transaction)
    def request_start(self, **_: Any) -> result201.RequestStartTransaction:
        return result201.RequestStartTransaction(status="Accepted")

    @after(Action201.request_start_transaction)
    async def authorize_it(self, id_token: dict, **_: Any) -> None:
        answer = await self.call(
            call201.Authorize(id_token={"idToken": id_token["id_token"], "type": id_token["type"]})
        )
        await self.verdicts.put(f"{id_token['type']}:{answer.id_token_info['status']}")

    @on(Action201.send_local_list)
    def send_local_list(self, local_authorization_list: list, **_: Any) -> result201.SendLocalList:
        self.local_list = local_authorization_list
        return result201.SendLocalList(status="Accepted")


async def test_a_remote_start_sends_the_cards_own_type_and_the_station_accepts_it(
    register, organization, connect_charger, live_server, unit_of_work
):
    gateway = live_server.app.state.gateway
    await IdToken.insert(IdToken(organization=organization, uid="04CA4D00000001", type="ISO14443"))
    await register("CP-STRICT")
    async with connect_charger("CP-STRICT", "ocpp2.0.1", client_class=StrictStation) as station:
        await booted(station, "ocpp2.0.1")
        started = await send_command(
            gateway, unit_of_work, "CP-STRICT", models.RemoteStart(id_token="04CA4D00000001")
        )
        assert started.accepted
        assert await asyncio.wait_for(station.verdicts.get(), 5) == "ISO14443:Accepted"
        # The same card reported as Local (or Central) is the same token.
        for reported in ("Local", "Central"):
            answer = await station.call(
                call201.Authorize(id_token={"idToken": "04CA4D00000001", "type": reported})
            )
            assert answer.id_token_info["status"] == "Accepted", reported
        unknown = await station.call(
            call201.Authorize(id_token={"idToken": "04NOTACARD", "type": "ISO14443"})
        )
        assert unknown.id_token_info["status"] == "Unknown"


async def test_a_local_list_carries_each_cards_type(
    register, organization, connect_charger, live_server, unit_of_work
):
    gateway = live_server.app.state.gateway
    await IdToken.insert(
        IdToken(organization=organization, uid="04CARD", type="ISO14443"),
        IdToken(organization=organization, uid="EMAID-DE-1", type="eMAID"),
    )
    await register("CP-LIST")
    async with connect_charger("CP-LIST", "ocpp2.0.1", client_class=StrictStation) as station:
        await booted(station, "ocpp2.0.1")
        sent = await send_command(
            gateway,
            unit_of_work,
            "CP-LIST",
            models.SendLocalList(
                version=3, full=True, entries=(("04CARD", "Accepted"), ("EMAID-DE-1", "Blocked"))
            ),
        )
        assert sent.accepted
    assert [entry["id_token"] for entry in station.local_list] == [
        {"id_token": "04CARD", "type": "ISO14443"},
        {"id_token": "EMAID-DE-1", "type": "eMAID"},
    ]
