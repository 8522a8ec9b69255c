"""Alembic environment, driven programmatically by ``storage.engine.upgrade``.

The caller passes an open connection in ``config.attributes["connection"]``; tables and
alembic's version table land in that connection's default schema (PostgreSQL: the first
entry of its search_path).

To write a new revision, autogenerate it against a database migrated to head, e.g.::

    import sqlalchemy as sa
    from alembic import command
    from govarchive.storage.engine import alembic_config
    with sa.create_engine(URL).begin() as conn:
        command.revision(alembic_config(conn), message="...", autogenerate=True, rev_id="0002")

then replace storage.models types in it by plain SQLAlchemy ones (revisions stay frozen).
"""

from alembic import context

from govarchive.storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "storage migrations run through storage.Store(url).migrate() (`govarchive init`), "
        "not the alembic command line"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
