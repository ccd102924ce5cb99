"""Alembic environment of the project registry (run through sndskit.access.registry)."""

from alembic import context


def run_migrations() -> None:
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


if hasattr(context, "config"):  # set by alembic; absent when a test collector imports us
    run_migrations()
