"""JSON the API passes through (OCPI tariff elements, alert details, command payloads) is
stored with the core's snake_case keys and shown with camelCase ones, like every other field."""

from __future__ import annotations

import re
from typing import Any

from strawberry.utils.str_converters import to_camel_case

_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def camel_keys(value: Any) -> Any:
    """`value` with every mapping key, at any depth, in camelCase (`step_size` -> `stepSize`)."""
    if isinstance(value, dict):
        return {to_camel_case(str(key)): camel_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [camel_keys(item) for item in value]
    return value


# Maps whose keys are the station's own names (configuration keys such as Meter_Type), kept
# as the station spells them.
_STATION_NAMED = frozenset({"values"})


def station_answer(data: dict[str, Any]) -> dict[str, Any]:
    """What a station answered a command, with camelCase keys like the rest of the API,
    except the names it gave its own configuration keys."""
    return {
        to_camel_case(key): value if key in _STATION_NAMED else camel_keys(value)
        for key, value in data.items()
    }


def snake_keys(value: Any) -> Any:
    """`value` with every mapping key, at any depth, in snake_case (`stepSize` -> `step_size`)."""
    if isinstance(value, dict):
        return {_WORD_START.sub("_", str(key)).lower(): snake_keys(v) for key, v in value.items()}
    if isinstance(value, list):
        return [snake_keys(item) for item in value]
    return value
