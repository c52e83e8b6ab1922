"""Expected failures of the roaming domain; the OCPI adapter maps each to its status code."""

from __future__ import annotations

from app.errors import CPMSError


class PartnerUnreachable(CPMSError):
    """The partner's platform did not answer as OCPI says (down, refused, not OCPI)."""

    code = "partner_unreachable"


class PartnerRefused(PartnerUnreachable):
    """The partner answered, but refused what was sent (an object it does not know, ...)."""


class Unsendable(CPMSError):
    """What we would send cannot be expressed in the partner's protocol (a CDR of a place
    without coordinates, ...)."""

    code = "unsendable"


class TooManyParties(CPMSError):
    """A hub told about more parties than CPMS_OCPI_MAX_HUB_PARTIES: a new one is not kept."""

    code = "limit_reached"


class NoCommonVersion(CPMSError):
    """The partner offers no OCPI version this installation speaks."""

    code = "unsupported_version"


class MissingEndpoints(CPMSError):
    """The partner's version details lack an endpoint the handshake needs."""

    code = "missing_endpoints"


class RegistrationState(CPMSError):
    """A credentials call that does not fit the partner's state: POST when registered
    already, PUT or DELETE before registering."""

    code = "registration_state"
