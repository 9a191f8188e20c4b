"""`make run`: migrate the SQLite file, seed the demo organization and serve on 127.0.0.1:8000."""

from __future__ import annotations

import asyncio
import os

import uvicorn

from server.database import Database
from server.migrations import migrate
from server.settings import Settings
from workflow.demo import seed_demo

DEMO_ISSUER = "http://127.0.0.1:9400"


def main() -> None:
    os.environ.setdefault("OKR_ENV", "development")
    os.environ.setdefault("OKR_SECRET_KEY", "demo-secret-key-not-for-production")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{os.environ.get('OKR_DEMO_DB', 'okr.sqlite3')}")
    settings = Settings.from_env()
    migrate(settings.database_url)

    async def seed() -> None:
        database = Database(settings.database_url)
        async with database.transaction() as session:
            await seed_demo(session, os.environ.get("OKR_OIDC_ISSUER", DEMO_ISSUER))
        await database.dispose()

    asyncio.run(seed())
    print("okr-server demo on http://127.0.0.1:8000  (GraphiQL at /graphql)", flush=True)
    uvicorn.run("server.app:create_app", factory=True, host="127.0.0.1", port=8000, log_level="info")


if __name__ == "__main__":
    main()
