// The objective page: narrative, key results with figures and charts, check-ins, initiatives,
// transitions, comments, proposals and history. Writes refresh the figures in place, no reload.
import { gql, mutate } from "../api.js";
import { chartLegend, keyResultChart } from "../chart.js";
import { href } from "../router.js";
import { session } from "../state.js";
import {
  EVENT_WORDS, HEALTH_WORDS, busy, button, chip, date, dateTime, emptyState, field, formErrors, h, healthBadge,
  num, percent, progressBar, select, showErrors, statusBadge, toast, words,
} from "../ui.js";
import { ownerLabel } from "./dashboard.js";
import { lintList } from "./editor.js";

export const OBJECTIVE = `
  query Objective($id: ID!) {
    node(id: $id) { ... on Objective {
      id version title description motivation status level commitment visibility tags weight
      progress alignedProgress health color score reflection retrospectivePublished availableTransitions
      cycle { id name phase startsOn endsOn expectedProgress }
      ownerTeam { id name } ownerUser { id name }
      parent { id title } children { id title progress color }
      lint { rule severity message field }
      keyResults {
        id version title metricName unit startValue targetValue liftValue direction calculationType trackingFrequency rollup
        counterMetric weight owner { id name }
        currentValue progress health color projectedValue projectedCompletionOn nextCheckInDue score reflection
        checkIns(first: 100) { totalCount edges { node { id value note confidence measuredAt afterCycleEnd author { name } } } }
        initiatives { id kind title url status }
      }
      proposals { id status rationale createdAt author { name } }
      comments { id body createdAt author { name } }
      history(first: 30) { totalCount edges { node { id kind at actor { name } changes { path before after } } } }
    } }
  }
`;

export async function loadObjective(id) {
  const data = await gql(OBJECTIVE, { id });
  const objective = data.node;
  if (!objective || !objective.keyResults) return null;
  for (const kr of objective.keyResults) kr.checkIns = kr.checkIns.edges.map((e) => e.node);
  return objective;
}

function newKey() {
  return window.crypto && crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

function checkInForm(kr, onDone) {
  const value = h("input", { type: "number", step: "any", name: "value", required: true, inputmode: "decimal" });
  const confidence = h("input", { type: "range", name: "confidence", min: "0", max: "1", step: "0.1", value: "0.7" });
  const confidenceOut = h("output", { for: "", class: "range-out" }, "70%");
  confidence.addEventListener("input", () => (confidenceOut.textContent = percent(Number(confidence.value))));
  const note = h("input", { type: "text", name: "note", placeholder: "What moved it?" });
  const errors = formErrors();
  // One key per intended check-in: a retried submit after a network failure is not counted twice.
  let idempotencyKey = newKey();
  const submit = h("button", { type: "submit", class: "btn btn--primary" }, "Record check-in");
  const form = h(
    "form",
    { class: "checkin-form", "aria-label": `Check in on ${kr.title}`, novalidate: true },
    h(
      "div",
      { class: "checkin-form__row" },
      field(`New value${kr.unit ? ` (${kr.unit})` : ""}`, value, { name: "value" }),
      h("div", { class: "field", dataset: { field: "confidence" } }, h("label", { for: `conf-${kr.id}` }, "Confidence"), h("div", { class: "range" }, Object.assign(confidence, { id: `conf-${kr.id}` }), confidenceOut), h("p", { class: "field-error" })),
      field("Note", note, { name: "note" }),
      h("div", { class: "field field--submit" }, submit),
    ),
    errors,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (value.value === "" || Number.isNaN(Number(value.value))) {
      showErrors(form, [{ field: "value", message: "Enter the measured value as a number." }]);
      return;
    }
    busy(submit, async () => {
      const payload = await mutate(
        `mutation RecordCheckIn($input: CheckInInput!) {
          recordCheckIn(input: $input) { checkIn { id } keyResult { id currentValue progress } userErrors { code message field } }
        }`,
        { input: { keyResultId: kr.id, value: Number(value.value), confidence: Number(confidence.value), note: note.value, idempotencyKey } },
        "recordCheckIn",
      );
      if (payload.userErrors.length) return showErrors(form, payload.userErrors);
      idempotencyKey = newKey();
      toast("Check-in recorded.");
      await onDone(kr.id);
    }).catch((error) => showErrors(form, [{ message: error.message }]));
  });
  return form;
}

function initiativeForm(kr, onDone) {
  const kind = select("kind", [["INITIATIVE", "Initiative"], ["EXPERIMENT", "Experiment"]], "INITIATIVE");
  const title = h("input", { type: "text", name: "title", required: true });
  const url = h("input", { type: "url", name: "url", placeholder: "https://…" });
  const submit = h("button", { type: "submit", class: "btn btn--small" }, "Add");
  const form = h(
    "form",
    { class: "inline-form", "aria-label": `Add initiative to ${kr.title}` },
    field("Kind", kind, { name: "kind" }), field("Title", title, { name: "title" }), field("Link", url, { name: "url" }),
    h("div", { class: "field field--submit" }, submit), formErrors(),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      const payload = await mutate(
        `mutation AddInitiative($keyResultId: ID!, $kind: InitiativeKind!, $title: String!, $url: String) {
          addInitiative(keyResultId: $keyResultId, kind: $kind, title: $title, url: $url) { initiative { id } userErrors { code message field } }
        }`,
        { keyResultId: kr.id, kind: kind.value, title: title.value, url: url.value || null },
        "addInitiative",
      );
      if (payload.userErrors.length) return showErrors(form, payload.userErrors);
      await onDone(kr.id);
    }).catch((error) => showErrors(form, [{ message: error.message }]));
  });
  return form;
}

function keyResultCard(kr, objective, canWrite, refresh) {
  const direction = kr.direction === "DECREASE" ? "↓" : "↑";
  const recent = [...kr.checkIns].sort((a, b) => b.measuredAt.localeCompare(a.measuredAt)).slice(0, 4);
  const figure = (label, value, testid) => h("div", { class: "figure" }, h("span", { class: "figure__label" }, label), h("span", { class: "figure__value", "data-testid": testid }, value));
  const canCheckIn = canWrite && ["ACTIVE", "COMPLETED"].includes(objective.status);
  const card = h(
    "article",
    { class: "kr card", id: `kr-${kr.id}`, dataset: { id: kr.id } },
    h(
      "header",
      { class: "kr__head" },
      h("div", h("h3", { class: "kr__title" }, kr.title), h("p", { class: "muted small" }, `${kr.metricName} ${direction} · ${words(kr.trackingFrequency)} · rollup ${words(kr.rollup)}${kr.owner ? ` · owner ${kr.owner.name}` : ""}`)),
      h("div", { class: "kr__badges" }, kr.counterMetric ? chip("Counter metric", "chip--lock") : null, healthBadge(kr.health, kr.color)),
    ),
    h(
      "div",
      { class: "kr__figures" },
      figure("Current", num(kr.currentValue, kr.unit), "kr-current"),
      figure("Target", num(kr.targetValue, kr.unit), "kr-target"),
      figure("Start", num(kr.startValue, kr.unit)),
      figure("Projected at end", num(kr.projectedValue, kr.unit), "kr-projected"),
      figure("Target reached", kr.projectedCompletionOn ? date(kr.projectedCompletionOn) : "not on this pace"),
      kr.score !== null && kr.score !== undefined ? figure("Score", kr.score.toFixed(2)) : null,
    ),
    h("div", { class: "kr__bar" }, progressBar(kr.progress, kr.color, `Progress of ${kr.title}`), h("span", { class: "objective-row__pct", "data-testid": "kr-progress" }, percent(kr.progress))),
    h("figure", { class: "kr__chart" }, keyResultChart(kr, objective.cycle), h("figcaption", chartLegend())),
  );
  if (recent.length) {
    card.append(
      h("details", { class: "checkins" },
        h("summary", `Latest check-ins (${kr.checkIns.length})`),
        h("ul", { class: "plain-list" }, recent.map((c) => h("li", h("strong", num(c.value, kr.unit)), ` · ${dateTime(c.measuredAt)} · ${c.author.name}`, c.confidence != null ? ` · confidence ${percent(c.confidence)}` : "", c.note ? h("span", { class: "muted" }, ` — ${c.note}`) : null, c.afterCycleEnd ? chip("after cycle end") : null))),
      ),
    );
  }
  if (canCheckIn) card.append(checkInForm(kr, refresh));
  const initiatives = h("div", { class: "initiatives" }, h("h4", "Initiatives and experiments"));
  if (kr.initiatives.length) {
    initiatives.append(
      h("ul", { class: "plain-list" }, kr.initiatives.map((i) => h("li", chip(words(i.kind), i.kind === "EXPERIMENT" ? "chip--tag" : ""), " ", i.url ? h("a", { href: i.url, rel: "noopener noreferrer", target: "_blank" }, i.title) : i.title, h("span", { class: "muted" }, ` · ${i.status}`)))),
    );
  } else initiatives.append(h("p", { class: "muted small" }, "No initiatives linked yet."));
  if (canWrite && !["COMPLETED", "CANCELLED"].includes(objective.status)) initiatives.append(h("details", h("summary", "Link an initiative or experiment"), initiativeForm(kr, refresh)));
  card.append(initiatives);
  return card;
}

function transitions(objective, refresh) {
  const box = h("section", { class: "card actions", "aria-label": "Actions" }, h("h2", { class: "card__title" }, "Actions"));
  const events = objective.availableTransitions;
  const comment = h("textarea", { name: "comment", rows: "2", placeholder: "What should change? (needed to request changes)" });
  const buttons = h("div", { class: "actions__buttons" });
  for (const event of events) {
    const primary = event === "APPROVE" || event === "SUBMIT";
    const btn = button(EVENT_WORDS[event] || words(event), { class: `btn ${primary ? "btn--primary" : event === "CANCEL" ? "btn--danger" : ""}`, dataset: { event } });
    btn.addEventListener("click", () =>
      busy(btn, async () => {
        if (event === "REQUEST_CHANGES" && !comment.value.trim()) {
          return showErrors(box, [{ field: "comment", message: "Say what should change before requesting changes." }]);
        }
        const payload = await mutate(
          `mutation TransitionObjective($id: ID!, $event: ObjectiveEvent!, $comment: String) {
            transitionObjective(id: $id, event: $event, comment: $comment) { objective { id status } userErrors { code message field } }
          }`,
          { id: objective.id, event, comment: comment.value.trim() || null },
          "transitionObjective",
        );
        if (payload.userErrors.length) return showErrors(box, payload.userErrors);
        toast(`Objective is now ${words(payload.objective.status).toLowerCase()}.`);
        window.dispatchEvent(new Event("okr:changed"));
        await refresh();
      }).catch((error) => showErrors(box, [{ message: error.message }])),
    );
    buttons.append(btn);
  }
  if (events.length) {
    box.append(buttons);
    if (events.includes("REQUEST_CHANGES") || events.includes("APPROVE")) box.append(field("Comment", comment, { name: "comment" }));
  }
  const canWrite = session.viewer.role !== "VIEWER";
  const links = h("div", { class: "actions__links" });
  if (canWrite && objective.status === "DRAFT") links.append(h("a", { class: "btn", href: href(`/objectives/${objective.id}/edit`) }, "Edit draft"));
  if (canWrite && objective.status === "ACTIVE") links.append(h("a", { class: "btn", href: href(`/objectives/${objective.id}/propose`) }, "Propose a change"));
  if (objective.status === "IN_REVIEW" && events.includes("REQUEST_CHANGES")) {
    links.append(h("a", { class: "btn", href: href(`/objectives/${objective.id}/propose`) }, "Counter-propose"));
  }
  if (links.childNodes.length) box.append(links);
  if (!events.length && !links.childNodes.length) box.append(h("p", { class: "muted small" }, "Nothing for you to do here right now."));
  box.append(formErrors());
  return box;
}

function comments(objective, refresh) {
  const body = h("textarea", { name: "body", rows: "3", required: true, placeholder: "Add to the discussion" });
  const submit = h("button", { type: "submit", class: "btn btn--small" }, "Comment");
  const form = h("form", { class: "comment-form" }, field("Comment", body, { name: "body" }), submit, formErrors());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      const payload = await mutate(
        `mutation AddComment($subjectId: ID!, $body: String!) { addComment(subjectId: $subjectId, body: $body) { comment { id } userErrors { code message field } } }`,
        { subjectId: objective.id, body: body.value },
        "addComment",
      );
      if (payload.userErrors.length) return showErrors(form, payload.userErrors);
      await refresh();
    }).catch((error) => showErrors(form, [{ message: error.message }]));
  });
  return h(
    "section",
    { class: "card", "aria-label": "Comments" },
    h("h2", { class: "card__title" }, `Comments (${objective.comments.length})`),
    objective.comments.length
      ? h("ul", { class: "comments" }, objective.comments.map((c) => h("li", h("p", { class: "comment__meta" }, h("strong", c.author.name), h("span", { class: "muted" }, ` · ${dateTime(c.createdAt)}`)), h("p", c.body))))
      : h("p", { class: "muted small" }, "No comments yet."),
    session.viewer.role !== "VIEWER" ? form : null,
  );
}

function history(objective) {
  const events = objective.history.edges.map((e) => e.node);
  return h(
    "section",
    { class: "card", "aria-label": "History" },
    h("h2", { class: "card__title" }, "History"),
    events.length
      ? h("ol", { class: "timeline" }, events.map((e) => h("li", h("p", h("strong", words(e.kind.replace(/\./g, " "))), h("span", { class: "muted" }, ` · ${e.actor ? e.actor.name : "system"} · ${dateTime(e.at)}`)), e.changes.length ? h("ul", { class: "changes" }, e.changes.slice(0, 6).map((c) => h("li", h("code", c.path), ": ", h("del", c.before ?? "–"), " → ", h("ins", c.after ?? "–")))) : null)))
      : h("p", { class: "muted small" }, "No recorded changes yet."),
  );
}

function proposalsCard(objective) {
  if (!objective.proposals.length) return null;
  return h(
    "section",
    { class: "card", "aria-label": "Proposals" },
    h("h2", { class: "card__title" }, "Proposals"),
    h("ul", { class: "plain-list" }, objective.proposals.map((p) => h("li", statusBadge(p.status), " ", h("a", { href: href("/proposals", { focus: p.id, status: "ALL" }) }, p.rationale || "Proposal"), h("span", { class: "muted small" }, ` · ${p.author.name} · ${date(p.createdAt)}`)))),
  );
}

function details(objective) {
  const row = (k, v) => [h("dt", k), h("dd", v)];
  return h(
    "section",
    { class: "card", "aria-label": "Details" },
    h("h2", { class: "card__title" }, "Details"),
    h(
      "dl",
      { class: "details" },
      row("Cycle", `${objective.cycle.name} (${words(objective.cycle.phase)})`),
      row("Owner", ownerLabel(objective)),
      row("Level", words(objective.level)),
      row("Commitment", words(objective.commitment)),
      row("Visibility", words(objective.visibility)),
      row("Aligned to", objective.parent ? h("a", { href: href(`/objectives/${objective.parent.id}`) }, objective.parent.title) : "–"),
      objective.children.length ? row("Supported by", h("ul", { class: "plain-list" }, objective.children.map((c) => h("li", h("a", { href: href(`/objectives/${c.id}`) }, c.title), ` · ${percent(c.progress)}`)))) : null,
      row("Tags", objective.tags.length ? objective.tags.map((t) => chip(`#${t}`, "chip--tag")) : "–"),
      objective.score != null ? row("Score", objective.score.toFixed(2)) : null,
    ),
  );
}

function build(objective, refresh) {
  const canWrite = session.viewer.role !== "VIEWER";
  const expected = objective.cycle.expectedProgress;
  const main = h(
    "div",
    { class: "layout__main" },
    h(
      "section",
      { class: "hero card" },
      h("div", { class: "hero__top" }, statusBadge(objective.status), healthBadge(objective.health, objective.color), chip(words(objective.level))),
      h("h1", { class: "hero__title" }, objective.title),
      objective.description ? h("p", { class: "lead" }, objective.description) : null,
      h("div", { class: "hero__bar" }, progressBar(objective.progress, objective.color, "Objective progress"), h("span", { class: "hero__pct", "data-testid": "objective-progress" }, percent(objective.progress))),
      h("p", { class: "muted small" }, `Expected by today: ${percent(expected)} · ${HEALTH_WORDS[objective.health]}`),
      objective.motivation ? h("div", { class: "motivation" }, h("h2", "Why it matters"), h("p", objective.motivation)) : null,
      objective.reflection ? h("div", { class: "motivation" }, h("h2", "Reflection"), h("p", objective.reflection)) : null,
    ),
    h("h2", { class: "section-title" }, `Key results (${objective.keyResults.length})`),
    objective.keyResults.length ? objective.keyResults.map((kr) => keyResultCard(kr, objective, canWrite, refresh)) : emptyState("No key results yet", "A good objective has two to four measurable key results."),
  );
  const side = h("aside", { class: "layout__side" }, transitions(objective, refresh));
  if (objective.status === "DRAFT" && objective.lint.length) {
    side.append(h("section", { class: "card", "aria-label": "Coach" }, h("h2", { class: "card__title" }, "Coach"), lintList(objective.lint)));
  }
  side.append(details(objective));
  const proposals = proposalsCard(objective);
  if (proposals) side.append(proposals);
  side.append(comments(objective, refresh), history(objective));
  return h("div", { class: "layout" }, main, side);
}

export async function renderObjective(container, params) {
  const objective = await loadObjective(params.id);
  if (!objective) {
    container.append(h("h1", "Objective not found"), emptyState("There is no objective with this link, or you cannot see it.", ""), h("a", { href: href("/") }, "Back to the dashboard"));
    return;
  }
  container.append(h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: href("/", { cycle: objective.cycle.id }) }, objective.cycle.name), " / ", objective.ownerTeam ? objective.ownerTeam.name : ownerLabel(objective)));
  let view = build(objective, refresh);
  container.append(view);

  async function refresh(focusKr) {
    const fresh = await loadObjective(params.id);
    if (!fresh) return;
    const next = build(fresh, refresh);
    view.replaceWith(next);
    view = next;
    const target = focusKr ? next.querySelector(`#kr-${CSS.escape(focusKr)} .kr__figures`) : null;
    if (target) {
      target.setAttribute("tabindex", "-1");
      target.focus({ preventScroll: true });
    }
  }
}

