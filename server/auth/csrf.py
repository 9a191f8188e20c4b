"""CSRF double submit (DESIGN §5): a readable `okr_csrf` cookie the client echoes in `X-CSRF-Token`.

The value is also kept in the signed session, so a cookie planted by a sibling subdomain cannot
stand in for it.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import Response

from server.settings import Settings

CSRF_COOKIE = "okr_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FORM_FIELD = "csrf_token"
SESSION_KEY = "csrf"


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(session: MutableMapping[str, Any], echoed: str | None, cookie: str | None) -> bool:
    expected = session.get(SESSION_KEY)
    if not isinstance(expected, str) or not echoed or not cookie:
        return False
    return hmac.compare_digest(expected, echoed) and hmac.compare_digest(expected, cookie)


def request_csrf_ok(conn: HTTPConnection, session: MutableMapping[str, Any]) -> bool:
    return csrf_matches(session, conn.headers.get(CSRF_HEADER), conn.cookies.get(CSRF_COOKIE))


def set_csrf_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        token,
        max_age=settings.session_max_age,
        path="/",
        secure=settings.secure_cookies,
        httponly=False,  # the web app must read it to echo it
        samesite="lax",
    )


def clear_csrf_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(CSRF_COOKIE, path="/", secure=settings.secure_cookies, samesite="lax")
