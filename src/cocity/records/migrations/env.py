"""Alembic environment of the records store: migrations run on the connection that
:func:`cocity.records.open_records` passes in ``config.attributes["connection"]`` (inside its
writer's transaction), never from an ``alembic.ini``."""

from alembic import context

from cocity.records.store import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=VERSION_TABLE,
                  transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
