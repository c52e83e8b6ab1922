"""Routes worked out once per class, bound to a connection on lookup."""

import asyncio
import json
from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action

from ocpp_server.routes import routes_of


class Sent:
    def __init__(self) -> None:
        self.frames: list[str] = []

    async def send(self, frame: str) -> None:
        self.frames.append(frame)

    async def recv(self) -> str:
        await asyncio.Event().wait()
        return ""


class Central(ChargePoint):
    def __init__(self, identity: str, connection: Any) -> None:
        super().__init__(identity, connection)
        self.route_map = routes_of(self)
        self.after: list[tuple[str, str]] = []

    @on(Action.heartbeat)
    def on_heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=f"{self.id}-time")

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str, call_unique_id: str) -> call_result.Authorize:
        return call_result.Authorize(id_tag_info={"status": "Accepted"})

    @after(Action.authorize)
    def after_authorize(self, id_tag: str, call_unique_id: str) -> None:
        self.after.append((id_tag, call_unique_id))


def test_the_routes_of_a_class_are_worked_out_once_and_shared():
    first, second = Central("A", Sent()), Central("B", Sent())
    assert first.route_map._routes is second.route_map._routes
    assert set(first.route_map) == {Action.heartbeat, Action.authorize}


async def test_each_connection_answers_with_its_own_handlers():
    first, second = Central("A", Sent()), Central("B", Sent())
    await first.route_message(json.dumps([2, "1", "Heartbeat", {}]))
    await second.route_message(json.dumps([2, "2", "Heartbeat", {}]))
    assert json.loads(first._connection.frames[0])[2] == {"currentTime": "A-time"}
    assert json.loads(second._connection.frames[0])[2] == {"currentTime": "B-time"}


async def test_handlers_asking_for_the_call_id_get_it_before_and_after():
    station = Central("A", Sent())
    await station.route_message(json.dumps([2, "call-7", "Authorize", {"idTag": "TAG"}]))
    assert json.loads(station._connection.frames[0]) == [
        3,
        "call-7",
        {"idTagInfo": {"status": "Accepted"}},
    ]
    assert station.after == [("TAG", "call-7")]


async def test_an_action_without_a_handler_is_answered_not_implemented():
    station = Central("A", Sent())
    await station.route_message(json.dumps([2, "9", "DataTransfer", {"vendorId": "x"}]))
    assert json.loads(station._connection.frames[0])[2] == "NotImplemented"
