"""Id tokens in bulk from a CSV file (`cpms token import`), by the same rules as one at a time.
Importing the same file again changes nothing."""

from __future__ import annotations

from app.auth import repository
from app.auth.models import RFID
from app.auth.service import checked_uid
from app.errors import CPMSError, NotFound
from app.imports import ImportLine, Outcome, read_rows
from app.unit_of_work import UnitOfWork

COLUMNS = ("uid",)
OPTIONAL_COLUMNS = ("type", "user", "group")


async def import_tokens_csv(uow: UnitOfWork, organization_slug: str, text: str) -> list[ImportLine]:
    """One report line per row (header uid,type,user,group; type defaults to ISO14443):
    created, exists (left as it is) or failed (why), all valid rows in one transaction."""
    rows = read_rows(text, COLUMNS, OPTIONAL_COLUMNS)
    report: list[ImportLine] = []
    async with uow:
        organization_id = await repository.organization_id_by_slug(organization_slug)
        if organization_id is None:
            raise NotFound(f"no organization {organization_slug!r}")
        for number, row in enumerate(rows, start=1):
            key = row.get("uid") or ""
            try:
                token_type = row.get("type") or RFID
                uid = checked_uid(key, token_type)
                if await repository.find_token(organization_id, uid, token_type) is not None:
                    report.append(ImportLine(number, uid, Outcome.EXISTS))
                    continue
                user_id = None
                if row.get("user"):
                    email = str(row["user"]).lower()
                    user_id = await repository.user_id_by_email(organization_id, email)
                    if user_id is None:
                        raise NotFound(f"no user {row['user']!r}")
                await repository.create_token(
                    organization_id, uid, token_type, user_id, row.get("group")
                )
            except CPMSError as error:
                report.append(ImportLine(number, key, Outcome.FAILED, error.message))
                continue
            report.append(ImportLine(number, uid, Outcome.CREATED))
    return report
