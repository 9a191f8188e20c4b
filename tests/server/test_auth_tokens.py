"""Bearer credentials: IdP JWTs checked against the JWKS, and personal access tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from schema.ids import to_global_id
from server.auth.idp_tokens import IdpTokenVerifier
from tests.fixtures.api import Api
from tests.fixtures.factories import Factory
from workflow.enums import Role, TeamRole

ISSUER = "https://idp.example"
AUDIENCE = "okr-api"


class Jwks:
    """An IdP's discovery and key endpoints, served to the verifier through httpx's mock transport."""

    def __init__(self) -> None:
        self.keys = [RSAKey.generate_key(2048, parameters={"kid": "k1"})]
        self.fetches = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"})
        self.fetches += 1
        return httpx.Response(200, json=KeySet(self.keys).as_dict(private=False))

    def verifier(self) -> IdpTokenVerifier:
        client = httpx.AsyncClient(transport=httpx.MockTransport(self.handler))
        return IdpTokenVerifier(ISSUER, AUDIENCE, http=client, min_refetch_interval=0)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + 300, **overrides}


def sign(key: RSAKey, payload: dict[str, Any], alg: str = "RS256") -> str:
    return jwt.encode({"alg": alg, "kid": key.kid}, payload, key)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_a_good_token_is_accepted() -> None:
    idp = Jwks()
    identity = await idp.verifier().verify(sign(idp.keys[0], claims()))
    assert identity is not None
    assert (identity.issuer, identity.subject) == (ISSUER, "alice")


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(claims(aud="someone-else"), id="wrong audience"),
        pytest.param(claims(iss="https://evil.example"), id="wrong issuer"),
        pytest.param(claims(exp=int(time.time()) - 600), id="expired"),
        pytest.param(claims(nbf=int(time.time()) + 600), id="not yet valid"),
        pytest.param({k: v for k, v in claims().items() if k != "exp"}, id="no expiry"),
    ],
)
async def test_bad_claims_are_refused(payload: dict[str, Any]) -> None:
    idp = Jwks()
    assert await idp.verifier().verify(sign(idp.keys[0], payload)) is None


async def test_small_clock_skew_is_tolerated() -> None:
    idp = Jwks()
    slightly_early = claims(nbf=int(time.time()) + 20, exp=int(time.time()) - 20)
    assert await idp.verifier().verify(sign(idp.keys[0], slightly_early)) is not None


async def test_unknown_key_is_refused_after_one_refetch_and_rotation_is_followed() -> None:
    idp = Jwks()
    verifier = idp.verifier()
    assert await verifier.verify(sign(idp.keys[0], claims())) is not None
    assert idp.fetches == 1
    stranger = RSAKey.generate_key(2048, parameters={"kid": "k2"})
    assert await verifier.verify(sign(stranger, claims())) is None
    assert idp.fetches == 2  # one refetch for the unknown kid, no more
    idp.keys.append(stranger)  # the IdP rotates the key in
    assert await verifier.verify(sign(stranger, claims())) is not None
    assert idp.fetches == 3


async def test_alg_none_is_refused() -> None:
    idp = Jwks()
    token = f"{b64(json.dumps({'alg': 'none', 'kid': 'k1'}).encode())}.{b64(json.dumps(claims()).encode())}."
    assert await idp.verifier().verify(token) is None


async def test_hs256_signed_with_the_public_key_is_refused() -> None:
    idp = Jwks()
    public_pem = idp.keys[0].as_pem(private=False)
    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'kid': 'k1'}).encode())}.{b64(json.dumps(claims()).encode())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert await idp.verifier().verify(f"{signing_input}.{b64(signature)}") is None


async def test_garbage_is_refused() -> None:
    idp = Jwks()
    for token in ("", "a.b.c", "not-a-token", sign(idp.keys[0], claims())[:-4] + "AAAA"):
        assert await idp.verifier().verify(token) is None


CREATE = """mutation($scopes: [String!]!, $days: Int) {
  createAccessToken(name: "ci", scopes: $scopes, expiresInDays: $days) { token tokenId userErrors { code field } }
}"""


async def test_missing_forged_expired_and_revoked_credentials_read_the_same(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    user = await factory.user(org, Role.MEMBER)
    created = (await api(CREATE, {"scopes": ["read"]}, as_=user))["createAccessToken"]
    token = created["token"]
    assert token.startswith("okr_pat_")
    query = {"query": "{ viewer { name } }"}
    ok = await api.client.post("/graphql", json=query, headers={"Authorization": f"Bearer {token}"})
    assert ok.json()["data"]["viewer"]["name"] == user.name
    revoke = "mutation($id: ID!) { revokeAccessToken(id: $id) }"
    assert (await api(revoke, {"id": created["tokenId"]}, as_=user))["revokeAccessToken"] is True

    from tests.fixtures.oidc import TEST_IDP

    expired_jwt = TEST_IDP.token(user.issuer, user.subject, lifetime=-3600)
    answers = []
    for headers in (
        {},
        {"Authorization": "Bearer okr_pat_forged"},
        {"Authorization": f"Bearer {expired_jwt}"},
        {"Authorization": f"Bearer {token}"},  # revoked
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ):
        response = await api.client.post("/graphql", json=query, headers=headers)
        answers.append((response.status_code, response.text))
    assert len(set(answers)) == 1, answers
    assert answers[0][0] == 401


async def test_a_read_scoped_token_cannot_mutate(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    user = await factory.user(org, Role.MEMBER)
    token = (await api(CREATE, {"scopes": ["read"]}, as_=user))["createAccessToken"]["token"]
    response = await api.client.post(
        "/graphql",
        json={"query": CREATE, "variables": {"scopes": ["read"]}},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    write = (await api(CREATE, {"scopes": ["write"]}, as_=user))["createAccessToken"]["token"]
    again = await api.client.post(
        "/graphql",
        json={"query": CREATE, "variables": {"scopes": ["read"]}},
        headers={"Authorization": f"Bearer {write}"},
    )
    assert again.json()["data"]["createAccessToken"]["userErrors"] == []


async def test_token_requests_are_validated(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    viewer = await factory.user(org, Role.VIEWER)
    member = await factory.user(org, Role.MEMBER)
    bad_scope = (await api(CREATE, {"scopes": ["admin"]}, as_=member))["createAccessToken"]
    assert bad_scope == {"token": None, "tokenId": None, "userErrors": [{"code": "VALIDATION", "field": "scopes"}]}
    too_long = (await api(CREATE, {"scopes": ["read"], "days": 5000}, as_=member))["createAccessToken"]
    assert too_long["userErrors"][0]["field"] == "expiresInDays"
    # A viewer cannot write, so the credential machinery never hands them a write token.
    assert (await api(CREATE, {"scopes": ["write"]}, as_=viewer))["createAccessToken"]["userErrors"][0][
        "code"
    ] == "FORBIDDEN"


async def test_someone_elses_token_cannot_be_revoked(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    owner = await factory.user(org, Role.MEMBER)
    other = await factory.user(org, Role.MEMBER)
    token_id = (await api(CREATE, {"scopes": ["read"]}, as_=owner))["createAccessToken"]["tokenId"]
    revoke = "mutation($id: ID!) { revokeAccessToken(id: $id) }"
    assert (await api(revoke, {"id": token_id}, as_=other))["revokeAccessToken"] is False
    assert (await api(revoke, {"id": "garbage"}, as_=owner))["revokeAccessToken"] is False
    assert (await api(revoke, {"id": token_id}, as_=owner))["revokeAccessToken"] is True


async def test_graphiql_page_and_sign_in_pages_need_no_credential(client: httpx.AsyncClient) -> None:
    assert (await client.get("/graphql", headers={"Accept": "text/html"})).status_code == 200
    assert (await client.get("/graphql?query={viewer{name}}")).status_code == 401
    assert (await client.get("/auth/login")).status_code == 503  # not configured in this app: a page, not 401


TEAMS = """
mutation($name: String!, $parent: ID) {
  createTeam(name: $name, parentId: $parent) { team { id name parent { name } } userErrors { code } }
}
"""


async def test_admins_manage_teams_members_and_roles(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    admin = await factory.user(org, Role.ADMIN)
    member = await factory.user(org, Role.MEMBER)
    root = (await api(TEAMS, {"name": "Company"}, as_=admin))["createTeam"]["team"]
    child = (await api(TEAMS, {"name": "Growth", "parent": root["id"]}, as_=admin))["createTeam"]["team"]
    assert child["parent"] == {"name": "Company"}
    assert (await api(TEAMS, {"name": "Rogue"}, as_=member))["createTeam"]["userErrors"] == [{"code": "FORBIDDEN"}]

    set_member = """mutation($t: ID!, $u: ID!, $r: TeamRole) {
      setTeamMember(teamId: $t, userId: $u, role: $r) {
        team { leads { name } members { totalCount } } userErrors { code }
      }
    }"""
    user_id = to_global_id("User", member.id)
    led = (await api(set_member, {"t": child["id"], "u": user_id, "r": "LEAD"}, as_=admin))["setTeamMember"]
    assert led["team"] == {"leads": [{"name": member.name}], "members": {"totalCount": 1}}
    removed = (await api(set_member, {"t": child["id"], "u": user_id, "r": None}, as_=admin))["setTeamMember"]
    assert removed["team"] == {"leads": [], "members": {"totalCount": 0}}

    set_role = (
        """mutation($u: ID!, $r: Role!) { setUserRole(userId: $u, role: $r) { user { role } userErrors { code } } }"""
    )
    promoted = (await api(set_role, {"u": user_id, "r": "EXEC"}, as_=admin))["setUserRole"]
    assert promoted == {"user": {"role": "EXEC"}, "userErrors": []}
    last_admin = (await api(set_role, {"u": to_global_id("User", admin.id), "r": "MEMBER"}, as_=admin))["setUserRole"]
    assert last_admin == {"user": None, "userErrors": [{"code": "VALIDATION"}]}


async def test_nothing_crosses_organizations_by_id_or_by_list(api: Api, factory: Factory) -> None:
    a, b = await factory.organization(), await factory.organization()
    team_a = await factory.team(a, "A team")
    admin_a = await factory.user(a, Role.ADMIN, teams={team_a: TeamRole.LEAD})
    admin_b = await factory.user(b, Role.ADMIN)
    cycle_a = await factory.cycle(a)
    objective = await factory.objective(cycle_a, team_a, title="Secret of A")
    kr = await factory.key_result(objective)
    ids = {
        "o": to_global_id("Objective", objective.id),
        "k": to_global_id("KeyResult", kr.id),
        "t": to_global_id("Team", team_a.id),
        "c": to_global_id("Cycle", cycle_a.id),
        "u": to_global_id("User", admin_a.id),
    }
    query = """query($o: ID!, $k: ID!, $t: ID!, $c: ID!, $u: ID!) {
      o: node(id: $o) { id } k: node(id: $k) { id } t: node(id: $t) { id } c: node(id: $c) { id } u: node(id: $u) { id }
      objectives(first: 50) { totalCount } teams { id } cycles { id } proposals(first: 50) { totalCount }
    }"""
    seen_by_b = await api(query, ids, as_=admin_b)
    assert seen_by_b == {
        "o": None, "k": None, "t": None, "c": None, "u": None,
        "objectives": {"totalCount": 0}, "teams": [], "cycles": [], "proposals": {"totalCount": 0},
    }  # fmt: skip
    seen_by_a = await api(query, ids, as_=admin_a)
    assert all(seen_by_a[k] is not None for k in "oktcu")
    assert seen_by_a["objectives"]["totalCount"] == 1
    # Writes by id are refused the same way as for a missing object.
    set_member = (
        """mutation($t: ID!, $u: ID!) { setTeamMember(teamId: $t, userId: $u, role: MEMBER) { userErrors { code } } }"""
    )
    foreign = await api(set_member, {"t": ids["t"], "u": to_global_id("User", admin_b.id)}, as_=admin_b)
    assert foreign["setTeamMember"]["userErrors"] == [{"code": "NOT_FOUND"}]
