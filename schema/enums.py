"""The closed sets the API names, each registered once so every type and input shares it.

The values are the core's own; GraphQL shows the member names (ACTIVE, not "active")."""

from __future__ import annotations

import strawberry

from app.auth.models import IdTokenStatus, IdTokenType
from app.billing.models import PaymentKind, PaymentStatus
from app.commands.models import CertificateUse, CommandAction, CommandStatus
from app.healing.models import AlertKind, AlertSeverity, AlertStatus
from app.roaming.local_lists import LocalListState
from app.roaming.models import EndpointRole, HubPartyStatus, PartnerRole, PartnerStatus
from app.sessions.models import SessionLifecycle
from app.smart_charging.models import (
    ChargingProfileKind,
    ChargingProfileSource,
    ChargingProfileStatus,
    RecurrencyKind,
)
from app.stations.connector_status import ConnectorStatus
from app.stations.models import (
    ConnectorFormat,
    ConnectorStandard,
    FrameDirection,
    PowerType,
    RegistrationStatus,
    ReservationStatus,
    StationOrder,
)
from app.tariffs.models import TariffType

strawberry.enum(AlertKind, description="What an alert is about.")
strawberry.enum(AlertSeverity, description="How urgent an alert is.")
strawberry.enum(AlertStatus, description="Open until its condition clears, then resolved.")
strawberry.enum(
    ConnectorStatus,
    description="A connector's state, the same for OCPP 1.6 and 2.0.1 (see docs/graphql.md).",
)
strawberry.enum(ConnectorStandard, description="OCPI ConnectorType.")
strawberry.enum(ConnectorFormat, description="OCPI ConnectorFormat.")
strawberry.enum(PowerType, description="OCPI PowerType.")
strawberry.enum(RegistrationStatus, description="How a station's boot is answered.")
strawberry.enum(ReservationStatus, description="Where a reservation is in its life.")
strawberry.enum(FrameDirection, description="Which way an OCPP frame went.")
strawberry.enum(SessionLifecycle, name="SessionState", description="Where a session is.")
strawberry.enum(PaymentKind, description="A card hold captured later, or a saved card charged.")
strawberry.enum(PaymentStatus, description="Where a payment is; it only moves forward.")
strawberry.enum(IdTokenType, description="OCPP 2.0.1 IdTokenEnumType.")
strawberry.enum(IdTokenStatus, description="What a token is registered as, and stations told.")
strawberry.enum(CommandAction, description="What a command asks of a station.")
strawberry.enum(CommandStatus, description="How a command sent to a station ended.")
strawberry.enum(
    CertificateUse,
    description="What a certificate on a station is for (OCPP 2.0.1; 1.6 knows the first two).",
)
strawberry.enum(ChargingProfileKind, description="OCPP ChargingProfileKindType.")
strawberry.enum(RecurrencyKind, description="OCPP RecurrencyKindType.")
strawberry.enum(ChargingProfileStatus, description="Whether a profile is in force.")
strawberry.enum(ChargingProfileSource, description="Who asked for a charging profile.")
strawberry.enum(PartnerRole, description="An OCPI 2.2.1 role.")
strawberry.enum(EndpointRole, description="What a partner is for an OCPI module.")
strawberry.enum(PartnerStatus, description="Where a roaming partner's connection is.")
strawberry.enum(HubPartyStatus, description="How a party behind a roaming hub stands.")
strawberry.enum(LocalListState, description="How a station's last local list update went.")
strawberry.enum(TariffType, description="OCPI 2.2.1 TariffType.")
strawberry.enum(StationOrder, description="Order of a station list.")

__all__ = [
    "AlertKind",
    "AlertSeverity",
    "AlertStatus",
    "CertificateUse",
    "ChargingProfileKind",
    "ChargingProfileSource",
    "ChargingProfileStatus",
    "CommandAction",
    "CommandStatus",
    "ConnectorFormat",
    "ConnectorStandard",
    "ConnectorStatus",
    "EndpointRole",
    "FrameDirection",
    "IdTokenStatus",
    "IdTokenType",
    "PartnerRole",
    "PartnerStatus",
    "PaymentKind",
    "PaymentStatus",
    "PowerType",
    "RecurrencyKind",
    "RegistrationStatus",
    "ReservationStatus",
    "SessionLifecycle",
    "StationOrder",
    "TariffType",
]
