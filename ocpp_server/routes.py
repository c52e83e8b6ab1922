"""Handler routing for the ocpp library's ChargePoint, worked out once per class.

The library builds a route map per connection: a dict per action holding bound methods, each of
which it inspects for its signature on every call. With tens of thousands of connections that is
a hundred objects per station for the garbage collector to walk, and work at every connect. Here
each class's routes are found once; a connection holds one small view that binds a handler only
when a message asks for it."""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from typing import Any

from ocpp.routing import create_route_map

# Action -> what the library reads: "_on_action" and "_after_action" as (function, signature
# without `self`), "_skip_schema_validation" as a bool.
ClassRoutes = dict[str, dict[str, Any]]

_ROUTES_BY_CLASS: dict[type, ClassRoutes] = {}


def routes_of(charge_point: Any) -> Routes:
    """The route map to give a ChargePoint instance (in place of the library's own)."""
    cls = type(charge_point)
    routes = _ROUTES_BY_CLASS.get(cls)
    if routes is None:
        routes = _ROUTES_BY_CLASS[cls] = _class_routes(cls)
    return Routes(charge_point, routes)


def _class_routes(cls: type) -> ClassRoutes:
    routes: ClassRoutes = {}
    # On the class, the library's scan finds the plain functions instead of bound methods.
    for action, handlers in create_route_map(cls).items():
        entry = routes[action] = {}
        for key, value in handlers.items():
            if key in ("_on_action", "_after_action"):
                signature = inspect.signature(value)
                bound = signature.replace(parameters=list(signature.parameters.values())[1:])
                entry[key] = (value, bound)
            else:
                entry[key] = value
    return routes


class Routes(Mapping[str, dict[str, Any]]):
    """One connection's routes: the class's, with handlers bound to it on lookup."""

    __slots__ = ("_owner", "_routes")

    def __init__(self, owner: Any, routes: ClassRoutes) -> None:
        self._owner = owner
        self._routes = routes

    def __getitem__(self, action: str) -> dict[str, Any]:
        return {
            key: BoundHandler(value[0], self._owner, value[1])
            if isinstance(value, tuple)
            else value
            for key, value in self._routes[action].items()
        }

    def __iter__(self) -> Iterator[str]:
        return iter(self._routes)

    def __len__(self) -> int:
        return len(self._routes)


class BoundHandler:
    """A handler bound to its connection, carrying the signature the library inspects on
    every call, so that inspection is an attribute read."""

    __slots__ = ("__signature__", "_function", "_owner")

    def __init__(self, function: Any, owner: Any, signature: inspect.Signature) -> None:
        self._function = function
        self._owner = owner
        self.__signature__ = signature

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._function(self._owner, *args, **kwargs)
