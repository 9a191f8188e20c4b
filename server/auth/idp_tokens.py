"""Bearer JWTs issued by the identity provider: verified against its published keys (DESIGN §5).

The keys come from the issuer's discovery document and are cached; a token signed with a key id
we have not seen makes one refetch (key rotation), throttled so that garbage tokens cannot turn
the server into a JWKS request amplifier.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

# Asymmetric algorithms only: an HMAC "signature" made with the (public) verification key is refused.
ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
CLOCK_SKEW_SECONDS = 60
MIN_REFETCH_INTERVAL_SECONDS = 30.0
HTTP_TIMEOUT_SECONDS = 10.0


class IdpUnavailable(Exception):
    """Discovery or the key set could not be fetched."""


@dataclass(frozen=True)
class VerifiedIdentity:
    issuer: str
    subject: str
    claims: dict[str, Any]


class BearerVerifier(Protocol):
    async def verify(self, token: str) -> VerifiedIdentity | None: ...


class IdpTokenVerifier:
    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        http: httpx.AsyncClient | None = None,
        keys: KeySet | None = None,
        leeway: int = CLOCK_SKEW_SECONDS,
        min_refetch_interval: float = MIN_REFETCH_INTERVAL_SECONDS,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.leeway = leeway
        self._http = http
        self._min_refetch_interval = min_refetch_interval
        # Given keys (tests, or a provider without discovery) are used as they are, never refetched.
        self._static = keys is not None
        self._keys: KeySet | None = keys
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _get_json(self, url: str) -> Any:
        if self._http is not None:
            response = await self._http.get(url)
        else:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS) as client:
                response = await client.get(url)
        response.raise_for_status()
        return response.json()

    async def _fetch_keys(self) -> KeySet:
        try:
            metadata = await self._get_json(f"{self.issuer}/.well-known/openid-configuration")
            if metadata.get("issuer", "").rstrip("/") != self.issuer:
                raise IdpUnavailable("the discovery document names another issuer")
            keys = KeySet.import_key_set(await self._get_json(metadata["jwks_uri"]))
        except (httpx.HTTPError, ValueError, KeyError, TypeError, JoseError) as error:
            raise IdpUnavailable(str(error)) from error
        self._keys = keys
        self._fetched_at = time.monotonic()
        return keys

    async def _key_set(self, *, refresh: bool) -> KeySet | None:
        async with self._lock:
            if self._keys is None:
                return await self._fetch_keys()
            if refresh and self._static:
                return None
            if refresh and time.monotonic() - self._fetched_at >= self._min_refetch_interval:
                return await self._fetch_keys()
            return None if refresh else self._keys

    def _decode(self, token: str, keys: KeySet) -> jwt.Token:
        return jwt.decode(token, keys, algorithms=list(ALLOWED_ALGORITHMS))

    async def verify(self, token: str) -> VerifiedIdentity | None:
        """The identity a token proves, or None for anything forged, expired, foreign or malformed."""
        try:
            keys = await self._key_set(refresh=False)
            assert keys is not None
            try:
                decoded = self._decode(token, keys)
            except InvalidKeyIdError:
                fresh = await self._key_set(refresh=True)
                if fresh is None:
                    return None
                decoded = self._decode(token, fresh)
            jwt.JWTClaimsRegistry(
                leeway=self.leeway,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.audience},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError, TypeError, IdpUnavailable):
            return None
        subject = decoded.claims["sub"]
        if not isinstance(subject, str) or not subject:
            return None
        return VerifiedIdentity(issuer=self.issuer, subject=subject, claims=dict(decoded.claims))
