"""The HTTP app: health check and one transaction per request."""

from __future__ import annotations

import httpx

from server.app import create_app
from server.database import Database
from server.settings import Settings


async def test_healthz_checks_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_healthz_reports_an_unreachable_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken = Database(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/db.sqlite3")
    app = create_app(Settings(database_url=broken.url, env="development", secret_key="x" * 32), broken)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/healthz")
    await broken.dispose()
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
