"""Multi-column indexes (natural keys and hot paths), as plain CREATE INDEX: Piccolo's
Unique constraint is added with ALTER TABLE, which SQLite does not support."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-23T21:54:25:465974"
VERSION = "1.38.0"
DESCRIPTION = "multi-column indexes"

# (name, table, columns, unique): a frozen copy, so later edits of db/tables.py don't rewrite
# history.
INDEXES = [
    ('user_account_org_email', 'user_account', ('organization', 'email'), True),
    ('evse_station_evse_id', 'evse', ('station', 'evse_id'), True),
    ('connector_evse_connector_id', 'connector', ('evse', 'connector_id'), True),
    ('partner_party', 'partner', ('organization', 'country_code', 'party_id'), True),
    ('id_token_org_uid_type', 'id_token', ('organization', 'uid', 'type'), True),
    ('tariff_org_code', 'tariff', ('organization', 'code'), True),
    ('reservation_station_id', 'reservation', ('station', 'reservation_id'), True),
    ('charging_session_station_tx', 'charging_session', ('station', 'transaction_id'), True),
    ('webhook_event_provider_id', 'webhook_event', ('provider', 'event_id'), True),
    ('demand_response_external', 'demand_response_event', ('organization', 'source', 'external_id'), True),
    ('station_configuration_variable', 'station_configuration', ('station', 'component', 'component_instance', 'evse_id', 'connector_id', 'variable', 'variable_instance', 'attribute_type'), True),
    ('charging_session_station_state', 'charging_session', ('station', 'state'), False),
    ('charging_session_org_state_started', 'charging_session', ('organization', 'state', 'started_at'), False),
    ('meter_sample_session_time', 'meter_sample', ('session', 'sampled_at'), False),
    ('meter_sample_station_time', 'meter_sample', ('station', 'sampled_at'), False),
    ('status_change_connector_time', 'status_change', ('connector', 'occurred_at'), False),
    ('status_change_station_time', 'status_change', ('station', 'occurred_at'), False),
    ('charging_station_org_connected', 'charging_station', ('organization', 'connected'), False),
    ('alert_org_status_opened', 'alert', ('organization', 'status', 'opened_at'), False),
    ('command_log_station_time', 'command_log', ('station', 'created_at'), False),
    ('ocpp_message_log_identity_time', 'ocpp_message_log', ('identity', 'created_at'), False),
    ('outbox_message_due', 'outbox_message', ('status', 'next_attempt_at'), False),
]


class RawTable(Table):
    """Only used to run raw SQL on the configured engine."""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cpms", description=DESCRIPTION)

    async def create_indexes() -> None:
        for name, table, columns, unique in INDEXES:
            kind = "UNIQUE INDEX" if unique else "INDEX"
            column_list = ", ".join(f'"{column}"' for column in columns)
            await RawTable.raw(
                f'CREATE {kind} IF NOT EXISTS "{name}" ON "{table}" ({column_list})'
            )

    async def drop_indexes() -> None:
        for name, _table, _columns, _unique in reversed(INDEXES):
            await RawTable.raw(f'DROP INDEX IF EXISTS "{name}"')

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
