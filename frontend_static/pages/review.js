// End of cycle: score every key result (0.0–1.0 with a reflection), then publish each team's retrospective.
import { allPages, gql, mutate } from "../api.js";
import { go, href } from "../router.js";
import { isLeadOf, pickCycle, session } from "../state.js";
import { busy, chip, emptyState, field, formErrors, h, num, percent, showErrors, toast, words } from "../ui.js";
import { cyclePhase, cyclePicker } from "./cycle.js";

const OBJECTIVES = `
  query ReviewObjectives($filter: ObjectiveFilter, $first: Int, $after: String) {
    objectives(filter: $filter, first: $first, after: $after) {
      edges { node {
        id title status commitment score ownerTeam { id name } ownerUser { name }
        keyResults { id title unit currentValue targetValue progress score reflection counterMetric owner { id name } }
      } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export function grade(score) {
  if (score === null || score === undefined) return "grey";
  if (score >= 0.7) return "green";
  if (score >= 0.4) return "yellow";
  return "red";
}

// DESIGN §3: the key result's owner scores it or, where it has none, the owning team's leads.
function canScore(kr, team) {
  if (kr.owner) return kr.owner.id === session.viewer.id;
  return Boolean(team && isLeadOf(team.id));
}

function scoreSummary(kr) {
  return h(
    "div",
    { class: "score-form score-form--readonly", dataset: { id: kr.id } },
    h(
      "div",
      { class: "score-form__head" },
      h("div", h("p", { class: "score-form__title" }, kr.title), h("p", { class: "muted small" }, `Reached ${num(kr.currentValue, kr.unit)} of ${num(kr.targetValue, kr.unit)} · progress ${percent(kr.progress)}${kr.owner ? ` · scored by ${kr.owner.name}` : ""}`)),
      kr.score != null ? chip(`Scored ${kr.score.toFixed(2)}`, `chip--${grade(kr.score)}`) : chip("Not scored"),
    ),
    kr.reflection ? h("p", { class: "muted small" }, kr.reflection) : null,
  );
}

function scoreForm(kr) {
  const initial = kr.score ?? Math.min(1, Math.max(0, kr.progress));
  const slider = h("input", { type: "range", min: "0", max: "1", step: "0.05", value: String(initial), name: "score", id: `score-${kr.id}` });
  const out = h("output", { class: `score-out score--${grade(initial)}`, for: `score-${kr.id}` }, initial.toFixed(2));
  slider.addEventListener("input", () => {
    const v = Number(slider.value);
    out.textContent = v.toFixed(2);
    out.className = `score-out score--${grade(v)}`;
    slider.setAttribute("aria-valuetext", v.toFixed(2));
  });
  const reflection = h("textarea", { name: "reflection", rows: "2", placeholder: "What did we learn?" });
  reflection.value = kr.reflection || "";
  const submit = h("button", { type: "submit", class: "btn btn--small" }, kr.score != null ? "Update score" : "Save score");
  const form = h(
    "form",
    { class: "score-form", dataset: { id: kr.id }, "aria-label": `Score ${kr.title}` },
    h(
      "div",
      { class: "score-form__head" },
      h("div", h("p", { class: "score-form__title" }, kr.title), h("p", { class: "muted small" }, `Reached ${num(kr.currentValue, kr.unit)} of ${num(kr.targetValue, kr.unit)} · progress ${percent(kr.progress)}${kr.owner ? ` · owner ${kr.owner.name}` : ""}`)),
      kr.score != null ? chip(`Scored ${kr.score.toFixed(2)}`, `chip--${grade(kr.score)}`) : chip("Not scored"),
    ),
    h(
      "div",
      { class: "score-form__row" },
      h("div", { class: "field", dataset: { field: "score" } }, h("label", { for: slider.id }, "Score"), h("div", { class: "range" }, slider, out), h("p", { class: "field-error" })),
      field("Reflection", reflection, { name: "reflection" }),
      h("div", { class: "field field--submit" }, submit),
    ),
    formErrors(),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      const payload = await mutate(
        `mutation Score($id: ID!, $score: Float!, $reflection: String) { scoreKeyResult(id: $id, score: $score, reflection: $reflection) { keyResult { id score reflection } userErrors { code message field } } }`,
        { id: kr.id, score: Number(slider.value), reflection: reflection.value.trim() || null },
        "scoreKeyResult",
      );
      if (payload.userErrors.length) return showErrors(form, payload.userErrors);
      kr.score = payload.keyResult.score;
      form.replaceWith(scoreForm({ ...kr, ...payload.keyResult }));
      toast("Score saved.");
    }).catch((error) => showErrors(form, [{ message: error.message }]));
  });
  return form;
}

function publishBox(cycle, team, retro) {
  const box = h("div", { class: "publish" });
  if (retro && retro.published) {
    box.append(chip("Retrospective published", "chip--green"));
    return box;
  }
  const btn = h("button", { type: "button", class: "btn btn--primary btn--small", dataset: { team: team.id } }, `Publish ${team.name} retrospective`);
  btn.addEventListener("click", () =>
    busy(btn, async () => {
      const payload = await mutate(
        `mutation Publish($cycleId: ID!, $teamId: ID!) { publishRetrospective(cycleId: $cycleId, teamId: $teamId) { retrospective { published averageScore } userErrors { code message field } } }`,
        { cycleId: cycle.id, teamId: team.id },
        "publishRetrospective",
      );
      if (payload.userErrors.length) return showErrors(box, payload.userErrors);
      toast(`${team.name} retrospective published.`);
      box.replaceWith(publishBox(cycle, team, payload.retrospective));
    }).catch((error) => showErrors(box, [{ message: error.message }])),
  );
  box.append(btn, formErrors());
  return box;
}

export async function renderReview(container, _params, query) {
  const cycle = pickCycle(query.get("cycle"), ["REVIEWING", "ACTIVE"]);
  container.append(
    h(
      "div",
      { class: "page-head" },
      h("div", h("p", { class: "eyebrow" }, "Review"), h("h1", cycle ? `Score ${cycle.name}` : "Review")),
      cycle ? h("div", { class: "page-head__actions" }, cyclePicker(cycle, (id) => go("/review", { cycle: id })), h("a", { class: "btn", href: href("/retrospectives", { cycle: cycle.id }) }, "Retrospectives")) : null,
    ),
  );
  if (!cycle) return container.append(emptyState("No cycles yet"));
  container.append(cyclePhase(cycle, () => go("/review", { cycle: cycle.id, t: Date.now() })));
  if (!["REVIEWING", "CLOSED"].includes(cycle.phase)) {
    container.append(h("div", { class: "alert alert--info" }, `Scoring opens when the cycle is reviewing; ${cycle.name} is ${words(cycle.phase).toLowerCase()}.`));
  }
  const [objectives, retros] = await Promise.all([
    allPages(OBJECTIVES, { filter: { cycleId: cycle.id, status: ["ACTIVE", "COMPLETED"] } }, (d) => d.objectives),
    gql(`query Retros($cycleId: ID!) { retrospectives(cycleId: $cycleId) { team { id } published averageScore } }`, { cycleId: cycle.id }).then((d) => d.retrospectives).catch(() => []),
  ]);
  if (!objectives.length) return container.append(emptyState("Nothing to score", "Active objectives of this cycle appear here."));
  const byTeam = new Map();
  for (const o of objectives) {
    const key = o.ownerTeam ? o.ownerTeam.id : "_individual";
    if (!byTeam.has(key)) byTeam.set(key, { team: o.ownerTeam, items: [] });
    byTeam.get(key).items.push(o);
  }
  const leadOrExec = (teamId) => ["ADMIN", "EXEC"].includes(session.viewer.role) || session.teams.some((t) => t.id === teamId && t.leads.some((u) => u.id === session.viewer.id));
  const mine = new Set(session.viewer.teams.map((t) => t.id));
  const ordered = [...byTeam.values()].sort((a, b) => Number(Boolean(b.team && mine.has(b.team.id))) - Number(Boolean(a.team && mine.has(a.team.id))));
  for (const { team, items } of ordered) {
    const retro = team && retros.find((r) => r.team.id === team.id);
    container.append(
      h(
        "section",
        { class: "card review-team", "aria-label": `${team ? team.name : "Individual"} review` },
        h("div", { class: "group__head" }, h("h2", team ? team.name : "Individual objectives"), team && leadOrExec(team.id) && cycle.phase !== "CLOSED" ? publishBox(cycle, team, retro) : retro && retro.published ? chip("Published", "chip--green") : null),
        items.map((o) =>
          h(
            "div",
            { class: "review-objective" },
            h("h3", h("a", { href: href(`/objectives/${o.id}`) }, o.title), " ", chip(words(o.commitment))),
            o.keyResults.map((kr) => (canScore(kr, team) && ["REVIEWING"].includes(cycle.phase) ? scoreForm(kr) : scoreSummary(kr))),
          ),
        ),
      ),
    );
  }
}
