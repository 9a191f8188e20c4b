"""Alembic runs synchronously; the URL comes from the caller's config or DATABASE_URL."""

from __future__ import annotations

from sqlalchemy import create_engine, pool

from alembic import context
from server.database import sync_url
from server.settings import Settings
from workflow.models import Base

config = context.config


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Migrations stay free of app imports: our column types render as plain SQLAlchemy ones."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    return sync_url(url or Settings.from_env({**__import__("os").environ, "OKR_ENV": "development"}).database_url)


def run_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(
            connection=conn, target_metadata=target_metadata, render_as_batch=True, render_item=render_item
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
