"""Sign-in: turning what the IdP vouches for into a user and a membership (DESIGN §5).

The identity is `(issuer, subject)`; email is contact data and decides only which organization a
newcomer joins, and only when the IdP says it is verified. Linking by email alone would let anyone
who controls an address at another IdP take over an account.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow import models
from workflow.enums import Role
from workflow.errors import DomainError, ErrorCode
from workflow.services.events import record_event

# Most powerful first: a person in several mapped groups gets the strongest role.
ROLE_ORDER = (Role.ADMIN, Role.EXEC, Role.MEMBER, Role.VIEWER)


class SignInRefused(DomainError):
    """The IdP vouched for the person, but no organization here accepts them."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.FORBIDDEN, message)


@dataclass(frozen=True)
class IdentityClaims:
    issuer: str
    subject: str
    email: str | None = None
    email_verified: bool = False
    name: str | None = None
    groups: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    organization_id: int
    role: Role
    created: bool


def role_for_groups(group_roles: dict[str, object], groups: Iterable[str]) -> Role | None:
    """The strongest role the organization maps any of the person's IdP groups to."""
    mapped: set[Role] = set()
    for group in groups:
        value = group_roles.get(group)
        if isinstance(value, str) and value in Role.__members__:
            mapped.add(Role(value))
    return next((role for role in ROLE_ORDER if role in mapped), None)


def _domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


async def _organization_for(session: AsyncSession, email: str) -> models.Organization | None:
    domain = _domain(email)
    # Domains are a short JSON list per organization; tenants are few, so matching in Python is fine.
    organizations = (await session.execute(select(models.Organization).order_by(models.Organization.id))).scalars()
    for org in organizations:
        if domain in {d.strip().lower() for d in org.email_domains}:
            return org
    return None


async def sign_in(session: AsyncSession, claims: IdentityClaims) -> SignedIn:
    """Create or update the user for `(iss, sub)` and make sure they belong to an organization."""
    if not claims.issuer or not claims.subject:
        raise SignInRefused("The identity provider did not say who you are (no issuer or subject).")
    user = (
        await session.execute(
            select(models.User).where(models.User.issuer == claims.issuer, models.User.subject == claims.subject)
        )
    ).scalar_one_or_none()
    email = (claims.email or "").strip().lower()
    created = user is None
    if user is None:
        if not email or not claims.email_verified:
            raise SignInRefused(
                "Your identity provider did not confirm a verified email address, so no organization can be chosen."
            )
        user = models.User(
            issuer=claims.issuer, subject=claims.subject, email=email, name=(claims.name or email).strip()[:200]
        )
        session.add(user)
        await session.flush()
    else:
        if email and claims.email_verified:
            user.email = email
        if claims.name:
            user.name = claims.name.strip()[:200]

    membership = (
        (
            await session.execute(
                select(models.Membership).where(models.Membership.user_id == user.id).order_by(models.Membership.id)
            )
        )
        .scalars()
        .first()
    )
    if membership is not None:
        org = await session.get(models.Organization, membership.organization_id)
        assert org is not None
        group_role = role_for_groups(org.group_roles, claims.groups)
        # When the organization maps IdP groups, the IdP stays the source of truth for those roles.
        if group_role is not None and group_role != membership.role:
            before = membership.role
            membership.role = group_role
            await record_event(
                session,
                organization_id=org.id,
                actor=None,
                kind="user.role_changed",
                subject_type="User",
                subject_id=user.id,
                changes=[{"path": "role", "before": str(before), "after": str(group_role)}],
                note="from identity provider groups",
            )
        await session.flush()
        return SignedIn(user_id=user.id, organization_id=org.id, role=Role(membership.role), created=created)

    if not email or not claims.email_verified:
        raise SignInRefused("Your identity provider did not confirm a verified email address.")
    org = await _organization_for(session, email)
    if org is None:
        raise SignInRefused(
            f"No organization on this server accepts people from {_domain(email)}. "
            "Ask your administrator to add your email domain."
        )
    if email in {a.strip().lower() for a in org.admins_by_email}:
        role = Role.ADMIN
    else:
        role = role_for_groups(org.group_roles, claims.groups) or Role(org.default_role)
    session.add(models.Membership(organization_id=org.id, user_id=user.id, role=role))
    await session.flush()
    await record_event(
        session,
        organization_id=org.id,
        actor=None,
        kind="user.joined",
        subject_type="User",
        subject_id=user.id,
        changes=[{"path": "role", "before": None, "after": str(role)}],
    )
    return SignedIn(user_id=user.id, organization_id=org.id, role=role, created=created)
