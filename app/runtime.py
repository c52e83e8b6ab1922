"""The running service's shared parts, built once by the composition root (`app.main`)."""

from __future__ import annotations

from dataclasses import dataclass

from piccolo.engine.base import Engine

from app.attempts import FailedAttempts
from app.auth.models import TokenIssuers
from app.billing.provider import PaymentProvider
from app.config import Settings
from app.events import EventBus
from app.outbound import OutboundPolicy
from app.roaming.peers import RoamingPeers
from app.stations.certificates import StationCA
from app.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    bus: EventBus
    unit_of_work: UnitOfWorkFactory
    payments: PaymentProvider
    attempts: FailedAttempts
    station_ca: StationCA | None = None  # signs stations' certificates, when configured
    roaming_peers: RoamingPeers | None = None  # calls partners' roaming platforms (OCPI)
    # asks a roaming partner about its token in real time (through roaming_peers)
    token_issuers: TokenIssuers | None = None

    @property
    def outbound(self) -> OutboundPolicy:
        """The rule for URLs that tenants and partners set."""
        return OutboundPolicy(allow_private=self.settings.outbound_allow_private)
