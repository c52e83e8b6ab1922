"""DataLoaders: every relation a list touches is loaded in one query per request, within the
caller's organization."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from strawberry.dataloader import DataLoader

from app.auth import service as auth
from app.auth.models import IdTokenView, Principal, UserView
from app.billing import service as billing
from app.billing.models import CdrView
from app.roaming import local_lists
from app.roaming.local_lists import LocalListView
from app.sessions import service as sessions
from app.sessions.models import SessionView
from app.smart_charging import service as smart_charging
from app.smart_charging.models import (
    ChargingProfileView,
    CompositeScheduleView,
    DemandResponseEventView,
)
from app.stations import service as stations
from app.stations.models import ConnectorView, EvseView, SiteView, StationView


class Loaders:
    def __init__(self, principal: Principal) -> None:
        async def load_sites(site_ids: Sequence[int]) -> list[SiteView | None]:
            found = await stations.sites_by_ids(principal, site_ids)
            return [found.get(site_id) for site_id in site_ids]

        async def load_stations_of_sites(site_ids: Sequence[int]) -> list[list[StationView]]:
            found = await stations.stations_by_site_ids(principal, site_ids)
            return [found.get(site_id, []) for site_id in site_ids]

        async def load_connectors(station_ids: Sequence[int]) -> list[list[ConnectorView]]:
            found = await stations.connectors_by_station_ids(principal, station_ids)
            return [found.get(station_id, []) for station_id in station_ids]

        async def load_evses(station_ids: Sequence[int]) -> list[list[EvseView]]:
            found = await stations.evses_by_station_ids(principal, station_ids)
            return [found.get(station_id, []) for station_id in station_ids]

        async def load_profiles(station_ids: Sequence[int]) -> list[list[ChargingProfileView]]:
            found = await smart_charging.profiles_of_stations(principal, station_ids)
            return [found.get(station_id, []) for station_id in station_ids]

        async def load_composites(
            station_ids: Sequence[int],
        ) -> list[list[CompositeScheduleView]]:
            found = await smart_charging.composite_schedules(principal, station_ids)
            return [found.get(station_id, []) for station_id in station_ids]

        async def load_demand_response(
            site_ids: Sequence[int],
        ) -> list[list[DemandResponseEventView]]:
            found = await smart_charging.demand_response_events_to_come(principal, site_ids)
            return [found.get(site_id, []) for site_id in site_ids]

        async def load_sessions(session_ids: Sequence[int]) -> list[SessionView | None]:
            found = await sessions.sessions_by_ids(principal, session_ids)
            return [found.get(session_id) for session_id in session_ids]

        async def load_cdrs(cdr_ids: Sequence[int]) -> list[CdrView | None]:
            found = await billing.cdrs_by_ids(principal, cdr_ids)
            return [found.get(cdr_id) for cdr_id in cdr_ids]

        async def load_cdrs_of_sessions(session_ids: Sequence[int]) -> list[list[CdrView]]:
            found = await billing.cdrs_of_sessions(principal, session_ids)
            return [found.get(session_id, []) for session_id in session_ids]

        async def load_running_costs(
            keys: Sequence[tuple[int, datetime, int]],
        ) -> list[tuple[int, str] | None]:
            found = await sessions.running_costs(keys)
            return [found.get(key[0]) for key in keys]

        async def load_stations(station_ids: Sequence[int]) -> list[StationView | None]:
            found = await stations.stations_by_ids(principal, station_ids)
            return [found.get(station_id) for station_id in station_ids]

        async def load_current_sessions(connector_ids: Sequence[int]) -> list[SessionView | None]:
            found = await sessions.active_sessions_of_connectors(principal, connector_ids)
            return [found.get(connector_id) for connector_id in connector_ids]

        async def load_local_lists(station_ids: Sequence[int]) -> list[LocalListView | None]:
            found = await local_lists.local_lists_of(principal, station_ids)
            return [found.get(station_id) for station_id in station_ids]

        async def load_users(user_ids: Sequence[int]) -> list[UserView | None]:
            found = await auth.users_by_ids(principal, user_ids)
            return [found.get(user_id) for user_id in user_ids]

        async def load_id_tokens(token_ids: Sequence[int]) -> list[IdTokenView | None]:
            found = await auth.id_tokens_by_ids(principal, token_ids)
            return [found.get(token_id) for token_id in token_ids]

        self.user: DataLoader[int, UserView | None] = DataLoader(load_fn=load_users)
        self.local_list: DataLoader[int, LocalListView | None] = DataLoader(
            load_fn=load_local_lists
        )
        self.id_token: DataLoader[int, IdTokenView | None] = DataLoader(load_fn=load_id_tokens)
        self.site: DataLoader[int, SiteView | None] = DataLoader(load_fn=load_sites)
        self.station: DataLoader[int, StationView | None] = DataLoader(load_fn=load_stations)
        self.session: DataLoader[int, SessionView | None] = DataLoader(load_fn=load_sessions)
        self.cdr: DataLoader[int, CdrView | None] = DataLoader(load_fn=load_cdrs)
        self.cdrs_of_session: DataLoader[int, list[CdrView]] = DataLoader(
            load_fn=load_cdrs_of_sessions
        )
        # (session id, started at, energy so far) -> (cost so far incl. VAT, currency)
        self.running_cost: DataLoader[tuple[int, datetime, int], tuple[int, str] | None] = (
            DataLoader(load_fn=load_running_costs)
        )
        self.current_session: DataLoader[int, SessionView | None] = DataLoader(
            load_fn=load_current_sessions
        )
        self.stations_of_site: DataLoader[int, list[StationView]] = DataLoader(
            load_fn=load_stations_of_sites
        )
        self.evses_of_station: DataLoader[int, list[EvseView]] = DataLoader(load_fn=load_evses)
        self.profiles_of_station: DataLoader[int, list[ChargingProfileView]] = DataLoader(
            load_fn=load_profiles
        )
        self.composites_of_station: DataLoader[int, list[CompositeScheduleView]] = DataLoader(
            load_fn=load_composites
        )
        # Events in force now or later, per site.
        self.demand_response_of_site: DataLoader[int, list[DemandResponseEventView]] = DataLoader(
            load_fn=load_demand_response
        )
        self.connectors_of_station: DataLoader[int, list[ConnectorView]] = DataLoader(
            load_fn=load_connectors
        )
