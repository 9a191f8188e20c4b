"""`make run`: migrate the SQLite file, seed the demo organization, start a real OIDC provider on
loopback and serve on 127.0.0.1:8000.

The provider is `oidc-provider-mock` on 127.0.0.1:9400, knowing every demo person (subject = the
local part of their email), so signing in to the demo walks the production sign-in code path.
"""

from __future__ import annotations

import asyncio
import os
import threading

import uvicorn

from server.database import Database
from server.migrations import migrate
from server.settings import Settings
from workflow.demo import DEMO_DOMAIN, PEOPLE, seed_demo

DEMO_ISSUER = "http://127.0.0.1:9400"
DEMO_CLIENT_ID = "okr-demo"
DEMO_CLIENT_SECRET = "okr-demo-secret"


def start_demo_provider(port: int = 9400) -> None:
    """The demo IdP in a daemon thread; it dies with the server process."""
    import oidc_provider_mock
    import werkzeug.serving

    users = [
        oidc_provider_mock.User(
            sub=person.subject,
            claims={"email": f"{person.subject}@{DEMO_DOMAIN}", "email_verified": True, "name": person.name},
        )
        for person in PEOPLE
    ]
    server = werkzeug.serving.make_server(
        "127.0.0.1", port, oidc_provider_mock.app(require_nonce=True, user_claims=users), threaded=True
    )
    threading.Thread(target=server.serve_forever, name="demo-oidc-provider", daemon=True).start()


def main() -> None:
    os.environ.setdefault("OKR_ENV", "development")
    os.environ.setdefault("OKR_SECRET_KEY", "demo-secret-key-not-for-production")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{os.environ.get('OKR_DEMO_DB', 'okr.sqlite3')}")
    own_provider = "OKR_OIDC_ISSUER" not in os.environ
    os.environ.setdefault("OKR_OIDC_ISSUER", DEMO_ISSUER)
    os.environ.setdefault("OKR_OIDC_CLIENT_ID", DEMO_CLIENT_ID)
    os.environ.setdefault("OKR_OIDC_CLIENT_SECRET", DEMO_CLIENT_SECRET)
    os.environ.setdefault("OKR_PUBLIC_URL", "http://127.0.0.1:8000")
    settings = Settings.from_env()
    migrate(settings.database_url)

    async def seed() -> None:
        database = Database(settings.database_url)
        async with database.transaction() as session:
            await seed_demo(session, os.environ["OKR_OIDC_ISSUER"])
        await database.dispose()

    asyncio.run(seed())
    if own_provider:
        start_demo_provider()
    people = ", ".join(p.subject for p in PEOPLE)
    print(
        "okr-server demo on http://127.0.0.1:8000  (sign in at /auth/login; GraphiQL at /graphql)\n"
        f"  demo identity provider: {os.environ['OKR_OIDC_ISSUER']}  people: {people}",
        flush=True,
    )
    uvicorn.run("server.app:create_app", factory=True, host="127.0.0.1", port=8000, log_level="info")


if __name__ == "__main__":
    main()
