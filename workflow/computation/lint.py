"""The OKR coach (DESIGN §3): findings a person can act on, each with a stable rule id.

Rule ids are part of the API (clients may filter or silence them), so they never change meaning;
a new check gets a new id. Severities: ERROR where the OKR cannot be measured at all, WARNING for
what OKR practice advises against, INFO for a suggestion. The same rules run on a draft
(`lintObjective`) and on stored objectives (`Objective.lint`), from an `ObjectiveDraft` either way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from workflow.computation.progress import target_from
from workflow.enums import CalculationType, Direction, LintSeverity, ObjectiveLevel

MIN_KEY_RESULTS = 2
MAX_KEY_RESULTS = 4
MAX_TEAM_OBJECTIVES = 5

# A number on its own, not a digit inside a word like "Q3" or "H1".
NUMBER = re.compile(r"(?<![A-Za-z])\d")

# Verbs that name work to be done rather than a result (the outputs-versus-outcomes test).
OUTPUT_VERBS = (
    "launch",
    "ship",
    "write",
    "publish",
    "release",
    "build",
    "create",
    "implement",
    "deploy",
    "develop",
    "design",
    "deliver",
    "complete",
    "finish",
    "hold",
    "host",
    "organize",
    "run",
    "send",
    "hire",
    "migrate",
    "fix",
    "add",
)
IRREGULAR_FORMS = {"wrote": "write", "written": "write", "built": "build", "ran": "run", "held": "hold", "sent": "send"}


def _verb_forms() -> dict[str, str]:
    forms: dict[str, str] = dict(IRREGULAR_FORMS)
    for verb in OUTPUT_VERBS:
        stem = verb[:-1] if verb.endswith("e") else verb
        doubled = verb + verb[-1] if re.search(r"[^aeiou][aeiou][bdgmnprt]$", verb) else verb
        for form in (verb, verb + "s", verb + "es", stem + "ed", stem + "ing", doubled + "ed", doubled + "ing"):
            forms[form] = verb
    return forms


VERB_FORMS = _verb_forms()


@dataclass(frozen=True)
class KeyResultDraft:
    title: str
    unit: str
    start: float
    target: float | None
    direction: Direction
    counter_metric: bool = False

    @classmethod
    def from_fields(
        cls,
        title: str,
        unit: str,
        start: float,
        target: float | None,
        lift: float | None,
        calculation: CalculationType,
        direction: Direction,
        counter_metric: bool,
    ) -> KeyResultDraft:
        return cls(
            title, unit, start, target_from(start, target, lift, calculation, direction), direction, counter_metric
        )


@dataclass(frozen=True)
class ObjectiveDraft:
    title: str
    motivation: str
    level: ObjectiveLevel
    aligned: bool
    key_results: Sequence[KeyResultDraft]
    # Objectives of the owning team in the cycle, this one included; None when no team owns it.
    team_objectives: int | None = None
    team_name: str = ""


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: LintSeverity
    message: str
    field: str | None = None


def output_verb(title: str) -> str | None:
    """The output verb a title starts with (after any adverb: "Successfully launch ..."), if any."""
    for word in re.findall(r"[A-Za-z]+", title.lower())[:3]:
        if word.endswith("ly"):
            continue
        return VERB_FORMS.get(word)
    return None


def has_number(text: str) -> bool:
    return NUMBER.search(text) is not None


def _fmt(value: float) -> str:
    return f"{value:g}"


def lint_key_result(kr: KeyResultDraft, index: int) -> list[Finding]:
    field = f"keyResults.{index}"
    found: list[Finding] = []
    verb = output_verb(kr.title)
    if verb is not None:
        found.append(
            Finding(
                "key-result.output-verb",
                LintSeverity.WARNING,
                f'"{kr.title}" describes work to do ("{verb}"), not an outcome. Ask what should change once it '
                'is done and measure that, e.g. "Increase weekly active teams from 40 to 60".',
                f"{field}.title",
            )
        )
    if not has_number(kr.title):
        found.append(
            Finding(
                "key-result.no-number",
                LintSeverity.WARNING,
                f'"{kr.title}" states no number. Say what you measure and from where to where, e.g. '
                '"Reduce average bug resolution time from 5 days to 1 day".',
                f"{field}.title",
            )
        )
    if kr.target is None:
        found.append(
            Finding(
                "key-result.no-target",
                LintSeverity.ERROR,
                f'"{kr.title}" has no target: give a target value, or a lift with a lift calculation type.',
                f"{field}.targetValue",
            )
        )
    elif kr.start == kr.target and not kr.counter_metric:
        found.append(
            Finding(
                "key-result.start-equals-target",
                LintSeverity.ERROR,
                f'"{kr.title}" starts at its target ({_fmt(kr.start)}), so there is nothing to achieve. '
                "Set the value you aim to reach, or mark it as a counter metric if it is a guard to hold.",
                f"{field}.targetValue",
            )
        )
    elif kr.start == 0 and kr.target == 1 and not kr.unit.strip():
        found.append(
            Finding(
                "key-result.boolean",
                LintSeverity.WARNING,
                f'"{kr.title}" goes from 0 to 1 with no unit: a done/not-done milestone is a task. '
                "Measure the effect it should have instead.",
                field,
            )
        )
    return found


def lint_objective(draft: ObjectiveDraft) -> list[Finding]:
    found: list[Finding] = []
    if has_number(draft.title):
        found.append(
            Finding(
                "objective.has-number",
                LintSeverity.WARNING,
                f'The objective "{draft.title}" contains a number. Keep the objective qualitative and inspiring; '
                "move the numbers into its key results.",
                "title",
            )
        )
    if not draft.motivation.strip():
        found.append(
            Finding(
                "objective.missing-motivation",
                LintSeverity.WARNING,
                "Say why this matters now: a motivation helps other teams align with it and prioritize.",
                "motivation",
            )
        )
    if draft.level == ObjectiveLevel.TEAM and not draft.aligned:
        found.append(
            Finding(
                "objective.not-aligned",
                LintSeverity.WARNING,
                "This team objective is not aligned to a company objective. Choose the parent objective it "
                "serves, so its progress counts towards the company's.",
                "parentId",
            )
        )
    if draft.team_objectives is not None and draft.team_objectives > MAX_TEAM_OBJECTIVES:
        team = f"{draft.team_name} has" if draft.team_name else "The owning team has"
        found.append(
            Finding(
                "team.too-many-objectives",
                LintSeverity.WARNING,
                f"{team} {draft.team_objectives} objectives in this cycle; more than {MAX_TEAM_OBJECTIVES} "
                "spreads it thin. Merge or drop the least important.",
                "ownerTeamId",
            )
        )

    measured = [kr for kr in draft.key_results if not kr.counter_metric]
    if not measured:
        found.append(
            Finding(
                "key-results.none",
                LintSeverity.ERROR,
                f"Nothing measures this objective yet. Add {MIN_KEY_RESULTS} to {MAX_KEY_RESULTS} key results.",
                "keyResults",
            )
        )
    elif len(measured) < MIN_KEY_RESULTS:
        found.append(
            Finding(
                "key-results.too-few",
                LintSeverity.WARNING,
                "A single key result rarely captures an objective and is easy to game. Add one to three more "
                f"({MIN_KEY_RESULTS} to {MAX_KEY_RESULTS} in all).",
                "keyResults",
            )
        )
    elif len(measured) > MAX_KEY_RESULTS:
        found.append(
            Finding(
                "key-results.too-many",
                LintSeverity.WARNING,
                f"{len(measured)} key results dilute the focus. Keep the {MAX_KEY_RESULTS} that matter most.",
                "keyResults",
            )
        )
    for index, kr in enumerate(draft.key_results):
        found.extend(lint_key_result(kr, index))
    growth = any(kr.direction == Direction.INCREASE for kr in measured)
    if growth and not any(kr.counter_metric for kr in draft.key_results):
        found.append(
            Finding(
                "key-results.no-counter-metric",
                LintSeverity.INFO,
                "Growth key results can be reached at the expense of something else (quality, churn, support "
                "load). Consider a counter metric that must not get worse.",
                "keyResults",
            )
        )
    return found
