"""Bulk provisioning from CSV: the shape of a file, and the report of what each line did.
Pure: no I/O. Stations and id tokens are imported by their own domains with these."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from enum import StrEnum

from app.errors import InvalidInput


class Outcome(StrEnum):
    CREATED = "created"
    EXISTS = "exists"  # already there: left as it is, so a file can be imported again
    FAILED = "failed"  # not imported; the message says why


@dataclass(frozen=True, slots=True)
class ImportLine:
    """What one line of an import did. `line` counts from 1 at the first data line."""

    line: int
    key: str
    outcome: Outcome
    message: str | None = None
    password: str | None = None  # a generated secret, shown this once


def read_rows(text: str, required: tuple[str, ...], optional: tuple[str, ...]) -> list[dict]:
    """The data lines of a CSV file with a header row, as dicts of the known columns; empty
    cells are None. An unknown or missing column refuses the whole file."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in required if name not in header]
    unknown = [name for name in header if name not in (*required, *optional)]
    if missing or unknown:
        raise InvalidInput(
            f"the header is {','.join((*required, *optional))} ({', '.join(required)} "
            f"required); got {','.join(header) or 'nothing'}"
        )
    rows = []
    for raw in reader:
        row = {
            name.strip(): (value.strip() or None) if isinstance(value, str) else None
            for name, value in raw.items()
            if name is not None
        }
        rows.append(row)
    return rows
