"""Stations in bulk, from a CSV file (`cpms station import`) or a list (`importStations`),
by the same rules as one at a time. Importing the same file again changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

from app.auth.access import Permission, require
from app.auth.models import Principal
from app.errors import CPMSError, InvalidInput, NotFound
from app.imports import ImportLine, Outcome, read_rows
from app.stations import repository
from app.stations.management import new_station_values
from app.unit_of_work import UnitOfWork

COLUMNS = ("identity",)
OPTIONAL_COLUMNS = ("site", "password", "security_profile")


def _profile(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput("security_profile is 0, 1 or 2") from None


async def import_stations(
    uow: UnitOfWork, organization_id: int, rows: list[dict[str, Any]]
) -> list[ImportLine]:
    """One report line per row: created (with its generated password), exists (left as it
    is), or failed (why). Valid rows are created together in one transaction."""
    identities = [str(row.get("identity") or "").strip() for row in rows]
    owners = await repository.owners_of_identities([each for each in identities if each])
    sites = await repository.site_ids_by_name(organization_id)
    report: list[ImportLine] = []
    ready: list[tuple[int, str, dict[str, Any], str | None]] = []
    seen: set[str] = set()
    for number, (identity, row) in enumerate(zip(identities, rows, strict=True), start=1):
        if identity in owners or identity in seen:
            if owners.get(identity, organization_id) == organization_id:
                report.append(ImportLine(number, identity, Outcome.EXISTS))
            else:
                message = "this identity is registered to another organization"
                report.append(ImportLine(number, identity, Outcome.FAILED, message))
            continue
        try:
            fields: dict[str, Any] = {
                "password": row.get("password"),
                "security_profile": _profile(row.get("security_profile")),
            }
            if row.get("site"):
                if row["site"] not in sites:
                    raise NotFound(f"no site {row['site']!r}")
                fields["site_id"] = sites[row["site"]]
            # The password hash (scrypt) is CPU work: off the event loop.
            values, generated = await asyncio.to_thread(new_station_values, identity, fields)
        except CPMSError as error:
            report.append(ImportLine(number, identity, Outcome.FAILED, error.message))
            continue
        seen.add(identity)
        ready.append((number, identity, values, generated))
    async with uow:
        for number, identity, values, generated in ready:
            await repository.create_station(
                organization_id=organization_id,
                identity=identity,
                registration_status="Accepted",
                security_profile=values.pop("security_profile"),
                password_hash=values.pop("password_hash", None),
            )
            if values:
                await repository.update_station(organization_id, identity, values)
            report.append(ImportLine(number, identity, Outcome.CREATED, password=generated))
    return sorted(report, key=lambda line: line.line)


async def import_stations_csv(
    uow: UnitOfWork, organization_slug: str, text: str
) -> list[ImportLine]:
    """The command line's import: a CSV file with the header identity,site,password,
    security_profile (only identity required)."""
    rows = read_rows(text, COLUMNS, OPTIONAL_COLUMNS)
    organization_id = await repository.organization_id_by_slug(organization_slug)
    if organization_id is None:
        raise NotFound(f"no organization {organization_slug!r}")
    return await import_stations(uow, organization_id, rows)


async def import_stations_for(
    uow: UnitOfWork, principal: Principal, rows: list[dict[str, Any]], max_lines: int
) -> list[ImportLine]:
    """The API's import (admin), at most `max_lines` rows per request."""
    require(principal, Permission.MANAGE)
    if len(rows) > max_lines:
        raise InvalidInput(f"stations: at most {max_lines} per import")
    return await import_stations(uow, principal.organization_id, rows)
