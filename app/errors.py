"""The one base of expected failures; each adapter maps it to its own form."""

from __future__ import annotations


class CPMSError(Exception):
    """An expected failure with a stable code and a message for people."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(CPMSError):
    code = "not_found"


class InvalidInput(CPMSError):
    code = "invalid_input"


class AlreadyExists(CPMSError):
    code = "already_exists"


class NotAuthenticated(CPMSError):
    code = "not_authenticated"


class NotPermitted(CPMSError):
    code = "not_permitted"
