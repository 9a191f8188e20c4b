"""The demo organization `make run` serves: a team tree, people in every role, one cycle per phase."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from workflow import models
from workflow.computation.aggregates import fold_check_in
from workflow.enums import (
    Commitment,
    CycleKind,
    CyclePhase,
    Direction,
    ObjectiveOrigin,
    ObjectiveStatus,
    Role,
    TeamRole,
    Visibility,
)

DEMO_ORGANIZATION = "Acme Robotics (demo)"
DEMO_DOMAIN = "acme.test"


@dataclass(frozen=True)
class DemoPerson:
    subject: str
    name: str
    role: Role
    teams: tuple[tuple[str, TeamRole], ...] = ()

    @property
    def email(self) -> str:
        return f"{self.subject}@{DEMO_DOMAIN}"


TEAMS: tuple[tuple[str, str | None], ...] = (
    ("Acme", None),
    ("Product", "Acme"),
    ("Growth", "Product"),
    ("Platform", "Product"),
    ("Sales", "Acme"),
    ("People", "Acme"),
)

PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("admin", "Ada Admin", Role.ADMIN),
    DemoPerson("ceo", "Cleo Chief", Role.EXEC, (("Acme", TeamRole.LEAD),)),
    DemoPerson("cpo", "Pat Product", Role.EXEC, (("Product", TeamRole.LEAD),)),
    DemoPerson("grace", "Grace Growth", Role.MEMBER, (("Growth", TeamRole.LEAD),)),
    DemoPerson("gus", "Gus Growth", Role.MEMBER, (("Growth", TeamRole.MEMBER),)),
    DemoPerson("paula", "Paula Platform", Role.MEMBER, (("Platform", TeamRole.LEAD),)),
    DemoPerson("pete", "Pete Platform", Role.MEMBER, (("Platform", TeamRole.MEMBER),)),
    DemoPerson("sam", "Sam Sales", Role.MEMBER, (("Sales", TeamRole.LEAD),)),
    DemoPerson("hana", "Hana People", Role.MEMBER, (("People", TeamRole.LEAD),)),
    DemoPerson("vic", "Vic Viewer", Role.VIEWER),
)

# (team, title, motivation, visibility, commitment, key results: (title, metric, unit, start, target, direction))
KRSpec = tuple[str, str, str, float, float, Direction]
OBJECTIVES: tuple[tuple[str, str, str, Visibility, Commitment, tuple[KRSpec, ...]], ...] = (
    (
        "Acme",
        "Become the default robot arm for small factories",
        "Small factories are our growth market.",
        Visibility.ORGANIZATION,
        Commitment.ASPIRATIONAL,
        (
            ("Grow annual recurring revenue from 4.0M to 6.0M", "ARR", "M$", 4.0, 6.0, Direction.INCREASE),
            (
                "Increase active installations from 300 to 450",
                "installations",
                "",
                300,
                450,
                Direction.INCREASE,
            ),
        ),
    ),
    (
        "Product",
        "Deliver a product experience that users love",
        "Retention follows delight.",
        Visibility.ORGANIZATION,
        Commitment.COMMITTED,
        (
            ("Increase in-app NPS from 25 to 50", "NPS", "", 25, 50, Direction.INCREASE),
            (
                "Reduce average bug resolution time from 5 days to 1 day",
                "bug resolution",
                "days",
                5,
                1,
                Direction.DECREASE,
            ),
        ),
    ),
    (
        "Growth",
        "Make self-serve onboarding the main way customers start",
        "Sales-led onboarding does not scale.",
        Visibility.TEAM,
        Commitment.ASPIRATIONAL,
        (
            (
                "Increase weekly self-serve signups from 40 to 120",
                "signups/week",
                "",
                40,
                120,
                Direction.INCREASE,
            ),
            ("Raise trial-to-paid conversion from 8% to 15%", "conversion", "%", 8, 15, Direction.INCREASE),
            ("Keep support tickets per signup under 0.3", "tickets/signup", "", 0.3, 0.3, Direction.DECREASE),
        ),
    ),
    (
        "Platform",
        "Make the arm controller rock solid",
        "Every outage costs a customer a shift.",
        Visibility.ORGANIZATION,
        Commitment.COMMITTED,
        (
            ("Increase controller uptime from 99.0% to 99.9%", "uptime", "%", 99.0, 99.9, Direction.INCREASE),
            (
                "Reduce p95 command latency from 120 ms to 40 ms",
                "p95 latency",
                "ms",
                120,
                40,
                Direction.DECREASE,
            ),
        ),
    ),
    (
        "Sales",
        "Open the European market",
        "Half of our inbound interest is European.",
        Visibility.ORGANIZATION,
        Commitment.ASPIRATIONAL,
        (
            ("Sign 10 European distributors", "distributors", "", 0, 10, Direction.INCREASE),
            ("Grow European pipeline from 0.5M to 2.0M", "pipeline", "M$", 0.5, 2.0, Direction.INCREASE),
        ),
    ),
    (
        "People",
        "Hire and keep the people we need",
        "We cannot grow without them.",
        Visibility.TEAM,
        Commitment.COMMITTED,
        (
            ("Increase engineering headcount from 40 to 52", "headcount", "", 40, 52, Direction.INCREASE),
            ("Reduce regretted attrition from 8% to 4%", "attrition", "%", 8, 4, Direction.DECREASE),
        ),
    ),
)


def quarter_start(day: dt.date, offset: int) -> dt.date:
    index = (day.year * 4 + (day.month - 1) // 3) + offset
    return dt.date(index // 4, (index % 4) * 3 + 1, 1)


def quarter_end(start: dt.date) -> dt.date:
    return quarter_start(start, 1) - dt.timedelta(days=1)


# (quarter offset from today, phase, objective status)
CYCLES: tuple[tuple[int, CyclePhase, ObjectiveStatus], ...] = (
    (-2, CyclePhase.CLOSED, ObjectiveStatus.COMPLETED),
    (-1, CyclePhase.REVIEWING, ObjectiveStatus.ACTIVE),
    (0, CyclePhase.ACTIVE, ObjectiveStatus.ACTIVE),
    (1, CyclePhase.NEGOTIATING, ObjectiveStatus.IN_REVIEW),
    (2, CyclePhase.PLANNING, ObjectiveStatus.DRAFT),
)


async def seed_demo(session: AsyncSession, issuer: str, today: dt.date | None = None) -> models.Organization:
    """Create the demo organization once; calling it again returns the existing one unchanged."""
    existing = (
        await session.execute(select(models.Organization).where(models.Organization.name == DEMO_ORGANIZATION))
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    today = today or dt.datetime.now(dt.UTC).date()
    rng = random.Random(20261125)
    org = models.Organization(name=DEMO_ORGANIZATION, email_domains=[DEMO_DOMAIN], default_role=Role.MEMBER)
    session.add(org)
    await session.flush()

    teams: dict[str, models.Team] = {}
    for name, parent in TEAMS:
        team = models.Team(organization_id=org.id, name=name, parent_id=teams[parent].id if parent else None)
        session.add(team)
        await session.flush()
        teams[name] = team

    users: dict[str, models.User] = {}
    for person in PEOPLE:
        user = (
            await session.execute(
                select(models.User).where(models.User.issuer == issuer, models.User.subject == person.subject)
            )
        ).scalar_one_or_none()
        if user is None:
            user = models.User(issuer=issuer, subject=person.subject, email=person.email, name=person.name)
            session.add(user)
            await session.flush()
        users[person.subject] = user
        session.add(models.Membership(organization_id=org.id, user_id=user.id, role=person.role))
        for team_name, team_role in person.teams:
            session.add(
                models.TeamMember(organization_id=org.id, team_id=teams[team_name].id, user_id=user.id, role=team_role)
            )
    leads = {t: p.subject for p in PEOPLE for t, r in p.teams if r == TeamRole.LEAD}

    year = models.Cycle(
        organization_id=org.id,
        name=f"FY{today.year}",
        kind=CycleKind.YEAR,
        starts_on=dt.date(today.year, 1, 1),
        ends_on=dt.date(today.year, 12, 31),
        phase=CyclePhase.ACTIVE,
    )
    session.add(year)
    await session.flush()

    for offset, phase, status in CYCLES:
        starts_on = quarter_start(today, offset)
        ends_on = quarter_end(starts_on)
        cycle = models.Cycle(
            organization_id=org.id,
            name=f"{starts_on.year} Q{(starts_on.month - 1) // 3 + 1}",
            kind=CycleKind.QUARTER,
            starts_on=starts_on,
            ends_on=ends_on,
            phase=phase,
            parent_id=year.id if starts_on.year == today.year else None,
        )
        session.add(cycle)
        await session.flush()
        parents: dict[str, models.Objective] = {}
        team_parent = dict(TEAMS)
        for team_name, title, motivation, visibility, commitment, krs in OBJECTIVES:
            exec_drafted = team_name in ("Acme", "Product")
            author = users["ceo" if exec_drafted else leads[team_name]]
            parent_team = team_parent[team_name]
            objective = models.Objective(
                organization_id=org.id,
                cycle_id=cycle.id,
                title=title,
                motivation=motivation,
                owner_team_id=teams[team_name].id,
                author_id=author.id,
                submitted_by_id=author.id if status != ObjectiveStatus.DRAFT else None,
                origin=ObjectiveOrigin.EXEC if exec_drafted else ObjectiveOrigin.TEAM,
                commitment=commitment,
                visibility=visibility,
                tags=["growth"] if team_name in ("Growth", "Sales") else ["reliability"],
                status=status,
                parent_id=parents[parent_team].id if parent_team in parents else None,
            )
            session.add(objective)
            await session.flush()
            for tag in objective.tags:
                session.add(models.ObjectiveTag(organization_id=org.id, objective_id=objective.id, tag=tag))
            parents[team_name] = objective
            for position, (kr_title, metric, unit, start, target, direction) in enumerate(krs):
                kr = models.KeyResult(
                    organization_id=org.id,
                    objective_id=objective.id,
                    position=position,
                    title=kr_title,
                    metric_name=metric,
                    unit=unit,
                    start_value=start,
                    target_value=target,
                    direction=direction,
                    counter_metric=start == target,
                    owner_id=users[leads[team_name]].id,
                )
                session.add(kr)
                await session.flush()
                if phase in (CyclePhase.ACTIVE, CyclePhase.REVIEWING, CyclePhase.CLOSED):
                    _seed_check_ins(session, org, cycle, kr, users[leads[team_name]], today, rng)
                if phase == CyclePhase.CLOSED:
                    kr.score = round(min(1.0, max(0.0, rng.uniform(0.3, 1.0))), 2)
                    kr.reflection = "We learned where our estimate was off."
            if phase == CyclePhase.CLOSED:
                objective.score = 0.7
                objective.reflection = "Solid quarter; the targets were ambitious but reachable."
        if phase == CyclePhase.CLOSED:
            for team in teams.values():
                session.add(
                    models.Retrospective(
                        organization_id=org.id,
                        cycle_id=cycle.id,
                        team_id=team.id,
                        published=True,
                        published_at=dt.datetime.combine(ends_on, dt.time(12), tzinfo=dt.UTC),
                    )
                )
    await session.flush()
    return org


def _seed_check_ins(
    session: AsyncSession,
    org: models.Organization,
    cycle: models.Cycle,
    kr: models.KeyResult,
    author: models.User,
    today: dt.date,
    rng: random.Random,
) -> None:
    # Up to yesterday: a check-in seeded at 09:00 today would still be "the latest" for someone
    # recording one before nine, and the value they just entered would not show.
    last_day = min(today - dt.timedelta(days=1), cycle.ends_on)
    weeks = max(0, (last_day - cycle.starts_on).days // 7)
    pace = rng.uniform(0.4, 1.2)
    length = max(1, (cycle.ends_on - cycle.starts_on).days)
    for week in range(1, weeks + 1):
        day = cycle.starts_on + dt.timedelta(days=7 * week)
        share = pace * (day - cycle.starts_on).days / length
        value = (
            kr.start_value
            + (kr.target_value - kr.start_value) * share
            + rng.uniform(-0.03, 0.03) * abs(kr.target_value - kr.start_value or 1)
        )
        measured_at = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
        value = round(value, 2)
        session.add(
            models.CheckIn(
                organization_id=org.id,
                key_result_id=kr.id,
                value=value,
                note=f"Week {week} update",
                confidence=round(rng.uniform(0.5, 0.9), 2),
                measured_at=measured_at,
                author_id=author.id,
            )
        )
        fold_check_in(kr, cycle, value, measured_at)
