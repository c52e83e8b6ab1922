"""Piccolo tables: the whole data model. Every row belongs to an organization (the tenant).

Conventions: money is integer minor units with a currency beside it; times are UTC
`Timestamptz`; optional text columns default to None (Piccolo would store '' otherwise);
raw protocol data that must stay byte-exact (signed meter values, OCPP frames) is `Text`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from piccolo.columns import (
    JSON,
    BigInt,
    BigSerial,
    Boolean,
    ForeignKey,
    Integer,
    Numeric,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


def _created() -> Timestamptz:
    return Timestamptz(default=TimestamptzNow())


def _optional_text(length: int = 255) -> Varchar:
    return Varchar(length=length, null=True, default=None)


def _optional_time(index: bool = False) -> Timestamptz:
    return Timestamptz(null=True, default=None, index=index)


def _optional_fk(references: type[Table] | str, index: bool = True) -> ForeignKey:
    return ForeignKey(
        references=references, null=True, default=None, on_delete=OnDelete.set_null, index=index
    )


def _owner() -> ForeignKey:
    """The organization a row belongs to: indexed, and deleting a tenant deletes its data."""
    return ForeignKey(references=Organization, null=False, on_delete=OnDelete.cascade, index=True)


class Organization(Table):
    """A charge point operator: the tenant."""

    id = Serial(primary_key=True)
    name = Varchar(length=200)
    slug = Varchar(length=64, unique=True)
    # An unregistered station that connects is: reject | pending | auto_register.
    unknown_station_policy = Varchar(length=16, default="reject")
    default_currency = Varchar(length=3, default="EUR")
    # The heartbeat interval a station gets when it is created without its own.
    heartbeat_interval_s = Integer(default=300)
    settings = JSON(default="{}")  # per-organization rule thresholds (healing, billing)
    created_at = _created()
    country_code = _optional_text(2)  # ISO 3166-1 alpha-2: the CPO's roaming identity
    party_id = _optional_text(3)
    suspended_at = _optional_time()  # its users, keys and stations are refused while set


class User(Table, tablename="user_account"):
    """A person: staff (admin, operator, viewer) or a driver."""

    id = Serial(primary_key=True)
    organization = _owner()
    email = Varchar(length=254)
    name = _optional_text(200)
    role = Varchar(length=16, default="viewer")
    password_hash = _optional_text(255)
    stripe_customer_id = _optional_text(64)
    stripe_payment_method_id = _optional_text(64)  # charged off session after a charge
    active = Boolean(default=True)
    created_at = _created()
    last_login_at = _optional_time()


class ApiKey(Table):
    """An integrator's key; only a hash is kept, the prefix finds it."""

    id = Serial(primary_key=True)
    organization = _owner()
    name = Varchar(length=200)
    prefix = Varchar(length=16, unique=True)
    key_hash = Varchar(length=255)
    role = Varchar(length=16, default="viewer")
    created_by = _optional_fk(User)
    created_at = _created()
    last_used_at = _optional_time()
    revoked_at = _optional_time()


class PlatformKey(Table):
    """A key of whoever hosts the installation: manages organizations, sees inside none."""

    id = Serial(primary_key=True)
    name = Varchar(length=200)
    prefix = Varchar(length=16, unique=True)
    key_hash = Varchar(length=255)
    created_at = _created()
    last_used_at = _optional_time()
    revoked_at = _optional_time()


class LoginToken(Table):
    """A token a user got by logging in; only its SHA-256 is kept."""

    id = Serial(primary_key=True)
    organization = _owner()
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True, index=True)
    created_at = _created()
    expires_at = Timestamptz()
    last_used_at = _optional_time()
    revoked_at = _optional_time()


class Site(Table):
    """A location with one or more stations."""

    id = Serial(primary_key=True)
    organization = _owner()
    name = Varchar(length=200)
    address = _optional_text(255)
    city = _optional_text(100)
    postal_code = _optional_text(20)
    country = Varchar(length=3, default="DEU")  # ISO 3166-1 alpha-3, as OCPI
    latitude = Numeric(digits=(9, 6), null=True, default=None)
    longitude = Numeric(digits=(9, 6), null=True, default=None)
    time_zone = Varchar(length=64, default="UTC")
    grid_capacity_a = Integer(null=True, default=None)  # per phase, for load balancing
    grid_phases = Integer(default=3)  # 1 or 3
    min_current_a = Numeric(digits=(4, 1), default=Decimal(6))  # the least an EV is offered
    load_balancing = Varchar(length=16, default="EQUAL")  # EQUAL | PRIORITY
    opening_hours = JSON(null=True, default=None)  # OCPI Hours object; None: 24/7
    created_at = _created()
    # Roaming: whether partners may show the site to their drivers (OCPI Location.publish),
    # its energy mix (OCPI EnergyMix), and when what partners see of it last changed.
    publish = Boolean(default=True)
    energy_mix = JSON(null=True, default=None)
    # Who may park at its charging spaces (OCPI ParkingRestriction values); None: anyone.
    parking_restrictions = JSON(null=True, default=None)
    # Where its charging spaces are (OCPI ParkingType: ON_STREET, PARKING_LOT, ...); None: not
    # recorded.
    parking_type = _optional_text(24)
    updated_at = _optional_time()  # None: not changed since it was created
    # Deleted while roaming partners knew it: gone from the API, kept for the partners, who
    # keep being told its EVSEs are REMOVED (OCPI never deletes a Location).
    deleted_at = _optional_time()


class ChargingStation(Table):
    """A charger, known by its OCPP identity."""

    id = Serial(primary_key=True)
    organization = _owner()
    site = _optional_fk(Site)
    identity = Varchar(length=64, unique=True, index=True)
    name = _optional_text(200)
    protocol = _optional_text(16)  # negotiated: ocpp1.6 | ocpp2.0.1
    assumed_protocol = _optional_text(16)  # for chargers that send no subprotocol
    vendor = _optional_text(50)
    model = _optional_text(50)
    serial_number = _optional_text(50)
    firmware_version = _optional_text(50)
    iccid = _optional_text(32)
    imsi = _optional_text(32)
    meter_type = _optional_text(50)
    meter_serial_number = _optional_text(50)
    security_profile = Integer(default=1)
    free_vend = Boolean(default=False)  # charges for any id token it does not know
    password_hash = _optional_text(255)
    # A new password sent to the station: valid beside password_hash until the station first
    # connects with it, which makes it the only one.
    pending_password_hash = _optional_text(255)
    registration_status = Varchar(length=16, default="Accepted", index=True)
    heartbeat_interval = Integer(default=300)
    # The last id the CPMS handed this station in a request it echoes back (2.0.1
    # remoteStartId, firmware and log requestIds): each request gets the next one.
    last_request_id = Integer(default=0)
    status = Varchar(length=16, default="Unknown")  # connector 0 / station-level status
    error_code = _optional_text(50)
    connected = Boolean(default=False, index=True)
    node_id = _optional_text(64)
    last_seen_at = _optional_time()
    last_boot_at = _optional_time()
    # Progress of the last firmware update and diagnostics/log upload, as the station reports.
    firmware_status = _optional_text(32)
    firmware_status_at = _optional_time()
    diagnostics_status = _optional_text(32)
    diagnostics_status_at = _optional_time()
    created_at = _created()
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)


class Evse(Table):
    """An EVSE of a station (OCPP 1.6: one per connectorId)."""

    id = Serial(primary_key=True)
    station = ForeignKey(references=ChargingStation, on_delete=OnDelete.cascade, index=True)
    evse_id = Integer()
    evse_uid = _optional_text(48)  # OCPI / eMI3 EVSE id, e.g. DE*ABC*E123*1
    max_power_w = Integer(null=True, default=None)


class Connector(Table):
    """A plug of an EVSE, with its live status."""

    id = Serial(primary_key=True)
    station = ForeignKey(references=ChargingStation, on_delete=OnDelete.cascade, index=True)
    evse = ForeignKey(references=Evse, on_delete=OnDelete.cascade, index=True)
    connector_id = Integer()  # number within the EVSE
    standard = Varchar(length=32, default="IEC_62196_T2")  # OCPI ConnectorType
    format = Varchar(length=8, default="SOCKET")  # SOCKET | CABLE
    power_type = Varchar(length=16, default="AC_3_PHASE")  # AC_1_PHASE | AC_3_PHASE | DC
    max_voltage = Integer(default=400)
    max_amperage = Integer(default=32)
    max_power_w = Integer(default=22000)
    status = Varchar(length=16, default="Unknown", index=True)
    error_code = _optional_text(50)
    vendor_error_code = _optional_text(50)
    info = _optional_text(255)
    status_updated_at = _optional_time()


class DepartedEvse(Table):
    """An EVSE that was at a site and left it (its station moved away or was deleted): roaming
    partners keep being told it is REMOVED there, as OCPI asks, instead of never hearing of
    it again. What it had is kept, since its rows may be gone."""

    id = Serial(primary_key=True)
    site = ForeignKey(references=Site, on_delete=OnDelete.cascade, index=True)
    evse_row = Integer()  # the EVSE's row id: its OCPI uid
    evse_uid = _optional_text(48)  # its eMI3 id, when one was set
    # Its connectors: connector_id, standard, format, power_type, max_voltage, max_amperage,
    # max_power_w.
    connectors = JSON(default="[]")
    departed_at = Timestamptz(default=TimestamptzNow())


class StatusChange(Table):
    """History of station and connector statuses, for uptime and analytics."""

    id = BigSerial(primary_key=True)
    station = ForeignKey(references=ChargingStation, on_delete=OnDelete.cascade)
    connector = _optional_fk(Connector, index=False)  # None: the station itself (connector 0)
    status = Varchar(length=16)
    error_code = _optional_text(50)
    vendor_error_code = _optional_text(50)
    info = _optional_text(255)
    occurred_at = Timestamptz()  # the charger's clock
    received_at = _created()


class MaintenanceWindow(Table):
    """Planned downtime set by an operator: excluded from uptime."""

    id = Serial(primary_key=True)
    organization = _owner()
    station = ForeignKey(references=ChargingStation, on_delete=OnDelete.cascade, index=True)
    connector = _optional_fk(Connector)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    reason = _optional_text(255)
    created_by = _optional_fk(User, index=False)
    created_at = _created()


class Partner(Table):
    """A roaming partner (OCPI): an eMSP or a hub."""

    id = Serial(primary_key=True)
    organization = _owner()
    name = Varchar(length=200)
    country_code = Varchar(length=2)
    party_id = Varchar(length=3)
    roles = JSON(default="[]")
    version = _optional_text(8)
    versions_url = _optional_text(512)
    endpoints = JSON(default="[]")
    # Hash of the token they use to call us (token B/C), and their token for calling them.
    incoming_token_hash = _optional_text(255)
    outgoing_token = _optional_text(255)
    status = Varchar(length=16, default="pending")
    created_at = _created()
    # Hash of the token A we handed over, until they register with it.
    registration_token_hash = _optional_text(64)
    registered_at = _optional_time()  # the last credentials handshake
    # Pushes: the last status change sent (status_change.id), the last success, and while
    # the partner fails, since when, why and when to try again.
    push_cursor = BigInt(null=True, default=None)
    last_push_at = _optional_time()
    push_failing_since = _optional_time()
    push_error = Text(null=True, default=None)
    next_push_at = _optional_time()
    last_pull_at = _optional_time()  # when it last pulled a list from us (to the minute)
    # The tariffs the partner has from us: code -> the last_updated it was sent.
    pushed_tariffs = JSON(null=True, default=None)
    # The site change (updated_at, or created_at) up to which whole Locations went out.
    location_cursor = _optional_time()
    # Its tokens that may be used without asking it (whitelist ALWAYS or ALLOWED) are put in
    # our stations' local authorization lists, so they charge while a station is offline.
    station_local_lists = Boolean(default=False)
    # Pulling its tokens (when it lists them): when the last pull that completed began (the
    # next asks for what changed since), and why the last one failed, until one completes.
    tokens_pulled_at = _optional_time()
    tokens_pull_error = Text(null=True, default=None)


class IdToken(Table):
    """Something that authorizes charging: RFID card, eMAID, app token, ..."""

    id = Serial(primary_key=True)
    organization = _owner()
    uid = Varchar(length=255)
    type = Varchar(length=20, default="ISO14443")
    status = Varchar(length=16, default="Accepted")
    expires_at = _optional_time()
    group_id = _optional_text(255)
    user = _optional_fk(User)
    partner = _optional_fk(Partner)  # issued by a roaming partner
    contract_id = _optional_text(64)
    visual_number = _optional_text(64)
    created_at = _created()
    # A roaming partner's token: when it may be used from here without asking the partner
    # (OCPI whitelist), the token as the partner sent it, and when that changed.
    whitelist = _optional_text(16)
    issued_as = JSON(null=True, default=None)
    updated_at = _optional_time()
    # The partner authorized it (OCPI StartSession, or its answer to a real-time
    # authorization): accepted until then without asking again; how (COMMAND or
    # AUTH_REQUEST) and the partner's reference, for the session and its CDR.
    preauthorized_until = _optional_time()
    preauthorized_as = _optional_text(16)
    authorization_reference = _optional_text(36)
    # When it last changed here (our clock, unlike updated_at): stations' local authorization
    # lists are brought up to date with the changes after what they were last sent.
    changed_at = _optional_time()  # indexed with its partner (INDEXES)


class StationLocalList(Table):
    """What a station's local authorization list holds, as far as we sent it: the version it
    has, the token changes it was sent up to, and how the last attempt went."""

    id = Serial(primary_key=True)
    station = ForeignKey(references=ChargingStation, on_delete=OnDelete.cascade, unique=True)
    version = Integer(default=0)
    # Token changes up to this time are in the list; None: it needs a whole (Full) update.
    synced_to = _optional_time()
    state = Varchar(length=16, default="pending")  # LocalListState
    next_attempt_at = _optional_time()  # after a refusal: not asked again before then
    # Counts the times which tokens belong in it changed (a whole list is due each time): an
    # update read under an older count does not bring the list up to date.
    generation = Integer(default=0)
    updated_at = Timestamptz(default=TimestamptzNow())


class HubParty(Table):
    """A party a roaming hub connects us with, as the hub tells (OCPI ClientInfo)."""

    id = Serial(primary_key=True)
    organization = _owner()
    partner = ForeignKey(references=Partner, on_delete=OnDelete.cascade, index=False)
    country_code = Varchar(length=2)
    party_id = Varchar(length=3)
    role = Varchar(length=8)  # OCPI Role
    status = Varchar(length=16)  # CONNECTED | OFFLINE | PLANNED | SUSPENDED
    last_updated = Timestamptz()


class Tariff(Table):
    """An OCPI 2.2.1-shaped tariff: elements of price components with restrictions."""

    id = Serial(primary_key=True)
    organization = _owner()
    code = Varchar(length=36)  # OCPI tariff id
    name = Varchar(length=200)
    currency = Varchar(length=3)
    type = _optional_text(24)  # AD_HOC_PAYMENT | PROFILE_* | REGULAR
    elements = JSON(default="[]")
    min_price_minor = BigInt(null=True, default=None)  # excl. VAT
    max_price_minor = BigInt(null=True, default=None)
    alt_text = JSON(default="[]")
    energy_mix = JSON(null=True, default=None)
    start_at = _optional_time()
    end_at = _optional_time()
    created_at = _created()
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)


class TariffAssignment(Table):
    """Which tariff applies where: organization default, site, station, connector, with an
    optional narrowing to a token group or a partner. The most specific match wins."""

    id = Serial(primary_key=True)
    organization = _owner()
    tariff = ForeignKey(references=Tariff, on_delete=OnDelete.cascade, index=True)
    site = _optional_fk(Site)
    station = _optional_fk(ChargingStation)
    connector = _optional_fk(Connector)
    token_group_id = _optional_text(255)
    partner = _optional_fk(Partner)
    created_at = _created()


class Reservation(Table):
    """A reservation of an EVSE or connector for an id token."""

    id = Serial(primary_key=True)
    organization = _owner()
    station = ForeignKey(references=ChargingStation, on_delete=OnDelete.cascade, index=True)
    evse = _optional_fk(Evse, index=False)
    connector = _optional_fk(Connector, index=False)
    reservation_id = Integer()  # the OCPP id sent to the station
    id_token = _optional_fk(IdToken, index=False)
    id_tag = Varchar(length=255)
    expires_at = Timestamptz()
    status = Varchar(length=16, default="Requested")  # Requested|Active|Used|Cancelled|Expired
    partner = _optional_fk(Partner, index=False)
    partner_reference = _optional_text(36)  # the partner's reservation_id (OCPI ReserveNow)
    created_at = _created()


class ChargingSession(Table):
    """A charging transaction, from start to stop, with what it consumed."""

    id = Serial(primary_key=True)
    organization = _owner()
    station = ForeignKey(references=ChargingStation, on_delete=OnDelete.restrict)
    evse = _optional_fk(Evse, index=False)
    connector = _optional_fk(Connector)
    transaction_id = Varchar(length=64)  # 1.6: our integer as text; 2.0.1: the station's id
    id_token = _optional_fk(IdToken)
    id_tag = _optional_text(255)  # raw, as the station sent it
    user = _optional_fk(User)
    # The roaming partner whose token charges: its copy of the session may lack the
    # session's last state while pending; pushed_at is the updated_at it has.
    partner = _optional_fk(Partner, index=False)
    partner_pending = Boolean(default=False)
    partner_pushed_at = _optional_time()
    reservation = _optional_fk(Reservation, index=False)
    state = Varchar(length=16, default="active")  # active | completed | failed
    charging_state = _optional_text(16)  # 2.0.1 chargingState / 1.6 connector status
    started_at = Timestamptz(index=True)
    ended_at = _optional_time()
    meter_start_wh = BigInt(null=True, default=None)
    meter_stop_wh = BigInt(null=True, default=None)
    energy_wh = BigInt(default=0)
    power_w = Integer(null=True, default=None)
    cost_minor = BigInt(null=True, default=None)  # running cost, incl. VAT
    currency = _optional_text(3)
    stop_reason = _optional_text(32)
    offline = Boolean(default=False)
    last_seq_no = Integer(null=True, default=None)
    seq_nos_seen = JSON(default="[]")  # 2.0.1: complete when Started..Ended have no gaps
    start_key = _optional_text(255)  # 1.6 idempotency: connector|idTag|timestamp|meterStart
    tariff_snapshot = JSON(null=True, default=None)
    last_meter_at = _optional_time()
    created_at = _created()
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)


class MeterSample(Table):
    """One sampled value; signed data is kept byte-exact."""

    id = BigSerial(primary_key=True)
    session = _optional_fk(ChargingSession, index=False)
    station = ForeignKey(references=ChargingStation, on_delete=OnDelete.cascade, index=False)
    connector = _optional_fk(Connector, index=False)
    sampled_at = Timestamptz()
    measurand = Varchar(length=48, default="Energy.Active.Import.Register")
    phase = _optional_text(8)
    location = _optional_text(8)
    unit = Varchar(length=16, default="Wh")
    context = _optional_text(24)
    value = Numeric(digits=(20, 6), null=True, default=None)
    signed_data = Text(null=True, default=None)
    signing_method = _optional_text(64)
    encoding_method = _optional_text(32)
    public_key = Text(null=True, default=None)


class Cdr(Table):
    """A charge detail record: created once per session, immutable when finalized."""

    id = Serial(primary_key=True)
    organization = _owner()
    session = _optional_fk(ChargingSession)
    code = Varchar(length=39, unique=True)  # OCPI CDR id
    currency = Varchar(length=3)
    started_at = Timestamptz()
    ended_at = Timestamptz()
    total_energy_wh = BigInt(default=0)
    total_time_s = Integer(default=0)
    total_parking_time_s = Integer(default=0)
    total_cost_excl_vat_minor = BigInt(default=0)
    total_cost_incl_vat_minor = BigInt(default=0)
    cost_breakdown = JSON(default="{}")  # energy/time/parking/fixed, excl. and incl. VAT
    charging_periods = JSON(default="[]")
    tariff_snapshot = JSON(null=True, default=None)
    token = JSON(null=True, default=None)  # OCPI CdrToken
    location = JSON(null=True, default=None)  # OCPI CdrLocation
    signed_data = JSON(null=True, default=None)
    credit = Boolean(default=False)
    credit_reference = _optional_fk("self", index=False)
    finalized_at = _optional_time()
    created_at = _created()
    # The roaming partner whose token charged: the CDR is sent to it once (delivered), or it
    # refused it (why).
    partner = _optional_fk(Partner, index=False)
    partner_delivered_at = _optional_time()
    partner_refusal = _optional_text(255)


class Payment(Table):
    """Money through a provider (Stripe): pre-authorization, capture, off-session charge."""

    id = Serial(primary_key=True)
    organization = _owner()
    session = _optional_fk(ChargingSession)
    cdr = _optional_fk(Cdr, index=False)
    user = _optional_fk(User)
    id_token = _optional_fk(IdToken)  # ad hoc: the one-off token the station starts with
    provider = Varchar(length=16, default="stripe")
    provider_payment_id = Varchar(length=255, unique=True)
    provider_customer_id = _optional_text(255)
    kind = Varchar(length=16, default="preauth")  # preauth | off_session
    status = Varchar(length=24, default="created", index=True)
    currency = Varchar(length=3)
    authorized_minor = BigInt(default=0)
    captured_minor = BigInt(default=0)
    refunded_minor = BigInt(default=0)
    receipt_number = _optional_text(32)
    created_at = _created()
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)


class Refund(Table):
    """A full or partial refund of a payment."""

    id = Serial(primary_key=True)
    organization = _owner()
    payment = ForeignKey(references=Payment, on_delete=OnDelete.cascade, index=True)
    provider_refund_id = Varchar(length=255, unique=True, null=True, default=None)
    amount_minor = BigInt()
    currency = Varchar(length=3)
    status = Varchar(length=16, default="pending")
    reason = _optional_text(255)
    created_by = _optional_fk(User, index=False)
    created_at = _created()


class WebhookEvent(Table):
    """An inbound webhook, stored by the provider's event id so a redelivery is a no-op."""

    id = Serial(primary_key=True)
    provider = Varchar(length=16, default="stripe")
    event_id = Varchar(length=255)
    type = Varchar(length=100)
    payload = JSON(default="{}")
    received_at = _created()
    processed_at = _optional_time()


class ChargingProfile(Table):
    """A smart-charging profile sent (or to be sent) to a station."""

    id = Serial(primary_key=True)
    organization = _owner()
    station = ForeignKey(references=ChargingStation, on_delete=OnDelete.cascade, index=True)
    evse_id = Integer(default=0)  # 0: the whole station
    profile_id = Integer()
    stack_level = Integer(default=0)
    purpose = Varchar(length=40)  # ChargePointMaxProfile | TxDefaultProfile | TxProfile | ...
    kind = Varchar(length=16, default="Absolute")
    recurrency_kind = _optional_text(8)
    valid_from = _optional_time()
    valid_to = _optional_time()
    transaction_id = _optional_text(64)
    schedule = JSON(default="{}")
    source = Varchar(length=16, default="operator")  # operator | site_limit | ocpi | system
    status = Varchar(length=16, default="requested")
    created_at = _created()


class CompositeSchedule(Table):
    """The latest composite schedule a station reported for an EVSE (0: the whole station):
    the limits in force there, whoever set them."""

    id = Serial(primary_key=True)
    organization = _owner()
    station = ForeignKey(references=ChargingStation, on_delete=OnDelete.cascade)
    evse_id = Integer(default=0)
    schedule = JSON(default="{}")  # 2.0.1 CompositeScheduleType, snake_case, either version
    received_at = _created()


class DemandResponseEvent(Table):
    """A window in which a grid operator asks a site to draw less: a limit per phase (or, in
    time, a price signal), entered by hand or received through OpenADR."""

    id = Serial(primary_key=True)
    organization = _owner()
    site = _optional_fk(Site)
    source = Varchar(length=32, default="openadr")  # operator | openadr
    external_id = Varchar(length=255)  # the source's id for it; generated for one by hand
    starts_at = Timestamptz()
    ends_at = Timestamptz()  # a cancelled event ends when it was cancelled
    limit_a = Numeric(digits=(8, 1), null=True, default=None)  # per phase
    price = JSON(null=True, default=None)
    status = Varchar(length=16, default="scheduled")  # scheduled | cancelled
    created_at = _created()


class Alert(Table):
    """Something an operator must know about; resolves itself when the condition clears."""

    id = Serial(primary_key=True)
    organization = _owner()
    station = _optional_fk(ChargingStation)
    connector = _optional_fk(Connector, index=False)
    session = _optional_fk(ChargingSession, index=False)
    kind = Varchar(length=32)
    severity = Varchar(length=8, default="warning")  # info | warning | critical
    status = Varchar(length=8, default="open", index=True)  # open | resolved
    dedupe_key = Varchar(length=255, index=True)  # one open alert per condition
    message = Text(default="")
    details = JSON(default="{}")
    actions = JSON(default="[]")
    opened_at = _created()
    resolved_at = _optional_time()


class CommandLog(Table):
    """Who sent which command to which station, and what came back."""

    id = BigSerial(primary_key=True)
    organization = _owner()
    station = ForeignKey(references=ChargingStation, on_delete=OnDelete.cascade)
    action = Varchar(length=48)
    message_id = _optional_text(36)
    # The id the station echoes in what follows (remoteStartId, requestId), when it has one.
    request_id = Integer(null=True, default=None)
    request = JSON(default="{}")
    response = JSON(null=True, default=None)
    status = Varchar(length=16, default="pending")  # pending|accepted|rejected|failed|timeout
    error_code = _optional_text(48)
    error_message = Text(null=True, default=None)
    # The latest status the station reported for this request (firmware, log upload).
    progress = _optional_text(32)
    progress_at = _optional_time()
    actor = Varchar(length=16, default="system")  # user | api_key | system | partner
    user = _optional_fk(User, index=False)
    api_key = _optional_fk(ApiKey, index=False)
    created_at = _created()
    completed_at = _optional_time()


class OcppMessageLog(Table):
    """Raw OCPP frames, both directions, kept for a bounded time."""

    id = BigSerial(primary_key=True)
    station = _optional_fk(ChargingStation, index=False)
    identity = Varchar(length=64)
    direction = Varchar(length=3)  # in | out
    message_type = Integer()  # 2 call, 3 result, 4 error
    message_id = Varchar(length=64)
    action = _optional_text(48)
    frame = Text()
    created_at = _created()


class StationConfiguration(Table):
    """A 1.6 configuration key or a 2.0.1 device-model variable, as last reported."""

    id = Serial(primary_key=True)
    station = ForeignKey(references=ChargingStation, on_delete=OnDelete.cascade, index=True)
    component = Varchar(length=64, default="")  # '' for 1.6 keys
    component_instance = Varchar(length=64, default="")
    evse_id = Integer(default=0)
    connector_id = Integer(default=0)
    variable = Varchar(length=128)
    variable_instance = Varchar(length=64, default="")
    attribute_type = Varchar(length=8, default="Actual")
    value = Text(null=True, default=None)
    readonly = Boolean(default=False)
    characteristics = JSON(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)


class SecurityEvent(Table):
    """A security event reported by a station or seen by us (bad password, wrong profile)."""

    id = BigSerial(primary_key=True)
    station = _optional_fk(ChargingStation)
    identity = Varchar(length=64)
    type = Varchar(length=64)
    tech_info = Text(null=True, default=None)
    source = Varchar(length=8, default="station")  # station | server
    # Indexed: refusals are counted on a recent event, and old events are pruned.
    occurred_at = Timestamptz(index=True)
    received_at = _created()
    # A refusal repeated soon after is counted here rather than written again.
    repeats = Integer(default=1)
    last_occurred_at = Timestamptz(null=True, default=None)


class OutboxMessage(Table):
    """Outbound work that must not be lost (webhooks, OCPI pushes, captures), retried."""

    id = BigSerial(primary_key=True)
    organization = _owner()
    kind = Varchar(length=32)
    destination = Varchar(length=512)
    payload = JSON(default="{}")
    dedupe_key = Varchar(length=255, unique=True, null=True, default=None)
    status = Varchar(length=12, default="pending")  # pending | delivered | dead
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    last_error = Text(null=True, default=None)
    created_at = _created()
    delivered_at = _optional_time()


class Tally(Table):
    """Dashboard figures kept current: how many stations and connectors are in which state,
    and the all-time count, energy and revenue of finished sessions, per organization and per
    site (site 0: the whole organization). Triggers append each change to `TallyChange`, and a
    periodic round folds those into these rows, so no write contends for a shared row."""

    id = BigSerial(primary_key=True)
    organization = Integer()  # no foreign key: rows of a deleted tenant go with a trigger
    site = Integer(default=0)
    measure = Varchar(length=16)  # station | connector | session | revenue
    online = Boolean(default=False)  # the station's connection, for stations and connectors
    label = Varchar(length=16, default="")  # status as reported, or currency
    quantity = BigInt(default=0)  # stations, connectors, sessions or CDRs
    amount = BigInt(default=0)  # session energy in Wh, revenue in minor units incl. VAT


class TallyChange(Table):
    """A change to a `Tally` row not folded in yet (same columns, signed)."""

    id = BigSerial(primary_key=True)
    organization = Integer()
    site = Integer(default=0)
    measure = Varchar(length=16)
    online = Boolean(default=False)
    label = Varchar(length=16, default="")
    quantity = BigInt(default=0)  # stations, connectors, sessions or CDRs
    amount = BigInt(default=0)


# The tallies come first: SQLite empties tables in reverse order, and the triggers that keep
# them must still find their rows while the rest are deleted.
TABLES: list[type[Table]] = [
    Tally,
    TallyChange,
    Organization,
    User,
    ApiKey,
    PlatformKey,
    LoginToken,
    Site,
    ChargingStation,
    Evse,
    Connector,
    DepartedEvse,
    StatusChange,
    MaintenanceWindow,
    Partner,
    HubParty,
    IdToken,
    StationLocalList,
    Tariff,
    TariffAssignment,
    Reservation,
    ChargingSession,
    MeterSample,
    Cdr,
    Payment,
    Refund,
    WebhookEvent,
    ChargingProfile,
    CompositeSchedule,
    DemandResponseEvent,
    Alert,
    CommandLog,
    OcppMessageLog,
    StationConfiguration,
    SecurityEvent,
    OutboxMessage,
]


@dataclass(frozen=True)
class Index:
    """A multi-column index. Piccolo's own `Unique` constraint is added with ALTER TABLE,
    which SQLite lacks, so these are created by plain CREATE INDEX steps in the migration
    history; a test checks that each one exists in a migrated database."""

    name: str
    table: type[Table]
    columns: tuple[str, ...]
    unique: bool = False


INDEXES: list[Index] = [
    Index("tally_key", Tally, ("organization", "site", "measure", "online", "label"), unique=True),
    Index("tally_change_scope", TallyChange, ("organization", "site")),
    # Natural keys: what makes a repeated message or request idempotent.
    Index("user_account_org_email", User, ("organization", "email"), unique=True),
    Index("evse_station_evse_id", Evse, ("station", "evse_id"), unique=True),
    Index("connector_evse_connector_id", Connector, ("evse", "connector_id"), unique=True),
    Index("partner_party", Partner, ("organization", "country_code", "party_id"), unique=True),
    # A partner's every request is authenticated by its token's hash.
    Index("partner_incoming_token", Partner, ("incoming_token_hash",)),
    Index("partner_registration_token", Partner, ("registration_token_hash",)),
    Index("id_token_org_uid_type", IdToken, ("organization", "uid", "type"), unique=True),
    Index("tariff_org_code", Tariff, ("organization", "code"), unique=True),
    Index("hub_party_key", HubParty, ("partner", "country_code", "party_id"), unique=True),
    # A partner's CDRs, those still to send first.
    Index("cdr_partner_delivery", Cdr, ("partner", "partner_delivered_at")),
    # Sites that changed since a partner was last sent its Locations.
    Index("site_org_updated", Site, ("organization", "updated_at")),
    Index("site_org_created", Site, ("organization", "created_at")),
    # A partner's tokens that changed since a station's local list was sent.
    Index("id_token_partner_changed", IdToken, ("partner", "changed_at")),
    # A partner's sessions, those its copy may lack the last state of first.
    Index("charging_session_partner", ChargingSession, ("partner", "partner_pending")),
    Index("reservation_station_id", Reservation, ("station", "reservation_id"), unique=True),
    Index("reservation_partner_reference", Reservation, ("partner", "partner_reference")),
    Index(
        "composite_schedule_station_evse", CompositeSchedule, ("station", "evse_id"), unique=True
    ),
    # The profiles load balancing holds in force, among all those replaced before.
    Index("charging_profile_source_status", ChargingProfile, ("source", "status")),
    Index(
        "charging_session_station_tx",
        ChargingSession,
        ("station", "transaction_id"),
        unique=True,
    ),
    Index("webhook_event_provider_id", WebhookEvent, ("provider", "event_id"), unique=True),
    Index(
        "demand_response_external",
        DemandResponseEvent,
        ("organization", "source", "external_id"),
        unique=True,
    ),
    Index(
        "station_configuration_variable",
        StationConfiguration,
        (
            "station",
            "component",
            "component_instance",
            "evse_id",
            "connector_id",
            "variable",
            "variable_instance",
            "attribute_type",
        ),
        unique=True,
    ),
    # Hot paths: the OCPP handlers and the dashboard.
    Index("charging_session_station_state", ChargingSession, ("station", "state")),
    Index(
        "charging_session_org_state_started",
        ChargingSession,
        ("organization", "state", "started_at"),
    ),
    Index("meter_sample_session_time", MeterSample, ("session", "sampled_at")),
    Index("meter_sample_station_time", MeterSample, ("station", "sampled_at")),
    Index("status_change_connector_time", StatusChange, ("connector", "occurred_at")),
    Index("status_change_station_time", StatusChange, ("station", "occurred_at")),
    # Dashboard figures: grouped counts and sums answered from these indexes alone.
    Index(
        "charging_station_org_connected_status",
        ChargingStation,
        ("organization", "connected", "status"),
    ),
    Index("connector_station_status", Connector, ("station", "status")),
    Index(
        "charging_session_org_started_energy",
        ChargingSession,
        ("organization", "started_at", "energy_wh"),
    ),
    Index(
        "cdr_org_ended_amount",
        Cdr,
        ("organization", "ended_at", "currency", "total_cost_incl_vat_minor"),
    ),
    Index("alert_org_status_opened", Alert, ("organization", "status", "opened_at")),
    Index("command_log_station_time", CommandLog, ("station", "created_at")),
    Index("command_log_station_request", CommandLog, ("station", "request_id")),
    Index("ocpp_message_log_identity_time", OcppMessageLog, ("identity", "created_at")),
    Index("outbox_message_due", OutboxMessage, ("status", "next_attempt_at")),
]
