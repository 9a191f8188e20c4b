"""Creating tenants."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow import models
from workflow.enums import Role
from workflow.errors import ValidationFailed

DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


async def create_organization(
    session: AsyncSession, *, name: str, domain: str, admin_email: str
) -> models.Organization:
    name, domain, admin_email = name.strip(), domain.strip().lower(), admin_email.strip().lower()
    if not name:
        raise ValidationFailed("The organization needs a name.", "name")
    if not DOMAIN.match(domain):
        raise ValidationFailed(f"{domain!r} is not a domain name.", "domain")
    if not EMAIL.match(admin_email):
        raise ValidationFailed(f"{admin_email!r} is not an email address.", "adminEmail")
    taken = (
        await session.execute(select(models.Organization).where(models.Organization.name == name))
    ).scalar_one_or_none()
    if taken is not None:
        raise ValidationFailed(f"An organization named {name!r} already exists.", "name")
    org = models.Organization(
        name=name,
        email_domains=[domain],
        default_role=Role.MEMBER,
        group_roles={},
        # The first admin is named by email; sign-in matches it once the IdP vouches for that email.
        admins_by_email=[admin_email],
    )
    session.add(org)
    await session.flush()
    return org
