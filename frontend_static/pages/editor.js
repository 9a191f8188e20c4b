// Drafting: create or edit a DRAFT objective with its key results; the coach (lintObjective) advises as you type.
import { allPages, gql, mutate } from "../api.js";
import { go, href } from "../router.js";
import { pickCycle, session } from "../state.js";
import { busy, clear, emptyState, field, formErrors, h, select, showErrors, toast, words } from "../ui.js";
import { loadObjective } from "./objective.js";

const SEVERITY_ORDER = { ERROR: 0, WARNING: 1, INFO: 2 };

export function lintList(findings) {
  if (!findings.length) return h("p", { class: "coach-ok", "data-testid": "lint-ok" }, "✓ Looks like a solid OKR.");
  const sorted = [...findings].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  return h(
    "ul",
    { class: "lint", "data-testid": "lint" },
    sorted.map((f) => h("li", { class: `lint__item lint--${f.severity.toLowerCase()}`, dataset: { rule: f.rule } }, h("span", { class: "lint__sev" }, words(f.severity)), h("span", f.message))),
  );
}

const PARENTS = `
  query Parents($filter: ObjectiveFilter, $first: Int, $after: String) {
    objectives(filter: $filter, first: $first, after: $after) {
      edges { node { id title status level } } pageInfo { hasNextPage endCursor }
    }
  }
`;

const DIRECTIONS = [["INCREASE", "Increase"], ["DECREASE", "Decrease"]];
const CALCULATIONS = [["ABSOLUTE_TARGET", "Reach a target"], ["PERCENTAGE_LIFT", "Lift by a percentage"], ["ABSOLUTE_LIFT", "Lift by an amount"]];
const FREQUENCIES = [["WEEKLY", "Weekly"], ["DAILY", "Daily"], ["MONTHLY", "Monthly"], ["QUARTERLY", "Quarterly"]];
const ROLLUPS = [["LAST", "Latest value"], ["AVERAGE", "Average"], ["SUM", "Sum"], ["MAX", "Maximum"], ["MIN", "Minimum"]];

function krRow(kr, index, onChange, onRemove) {
  const prefix = `keyResults.${index}`;
  const input = (name, props = {}) => h("input", { name, value: kr ? kr[name] ?? "" : "", ...props });
  const c = {
    title: input("title", { type: "text", required: true, placeholder: "e.g. Increase weekly signups from 40 to 120" }),
    metricName: input("metricName", { type: "text", placeholder: "signups/week" }),
    unit: input("unit", { type: "text", placeholder: "%, ms, M$…" }),
    startValue: input("startValue", { type: "number", step: "any" }),
    targetValue: input("targetValue", { type: "number", step: "any" }),
    liftValue: input("liftValue", { type: "number", step: "any" }),
    direction: select("direction", DIRECTIONS, kr ? kr.direction : "INCREASE"),
    calculationType: select("calculationType", CALCULATIONS, kr ? kr.calculationType : "ABSOLUTE_TARGET"),
    trackingFrequency: select("trackingFrequency", FREQUENCIES, kr ? kr.trackingFrequency : "WEEKLY"),
    rollup: select("rollup", ROLLUPS, kr ? kr.rollup : "LAST"),
    counterMetric: h("input", { type: "checkbox", name: "counterMetric", checked: kr ? kr.counterMetric : false }),
  };
  const f = (label, name, extra) => field(label, c[name], { name: `${prefix}.${name}`, ...extra });
  const liftField = f("Lift", "liftValue");
  const targetField = f("Target", "targetValue");
  const syncCalc = () => {
    const lift = c.calculationType.value !== "ABSOLUTE_TARGET";
    liftField.hidden = !lift;
    targetField.hidden = lift;
  };
  c.calculationType.addEventListener("change", syncCalc);
  const removeBtn = h("button", { type: "button", class: "btn btn--ghost btn--small", "aria-label": `Remove key result ${index + 1}` }, "Remove");
  const row = h(
    "fieldset",
    { class: "kr-edit", dataset: { index: String(index), id: kr ? kr.id : "" } },
    h("legend", `Key result ${index + 1}`),
    h("div", { class: "grid grid--kr-title" }, f("Title", "title"), removeBtn),
    h("div", { class: "grid grid--4" }, f("Metric", "metricName"), f("Unit", "unit"), f("Start", "startValue"), targetField, liftField),
    h(
      "div",
      { class: "grid grid--4" },
      f("Direction", "direction"), f("Calculation", "calculationType"), f("Check-in cadence", "trackingFrequency"), f("Roll up check-ins by", "rollup"),
    ),
    h("label", { class: "check" }, c.counterMetric, "Counter metric (a guard that must not get worse)"),
  );
  syncCalc();
  removeBtn.addEventListener("click", () => onRemove(row));
  row.addEventListener("input", onChange);
  row.addEventListener("change", onChange);
  row.readValue = () => {
    const number = (el) => (el.value === "" ? null : Number(el.value));
    const lift = c.calculationType.value !== "ABSOLUTE_TARGET";
    return {
      title: c.title.value.trim(),
      metricName: c.metricName.value.trim() || c.title.value.trim(),
      unit: c.unit.value.trim(),
      startValue: number(c.startValue) ?? 0,
      targetValue: lift ? null : number(c.targetValue),
      liftValue: lift ? number(c.liftValue) : null,
      direction: c.direction.value,
      calculationType: c.calculationType.value,
      trackingFrequency: c.trackingFrequency.value,
      rollup: c.rollup.value,
      counterMetric: c.counterMetric.checked,
    };
  };
  return row;
}

function changed(before, after) {
  const patch = {};
  for (const [key, value] of Object.entries(after)) {
    const old = before[key];
    if (JSON.stringify(old ?? null) !== JSON.stringify(value ?? null)) patch[key] = value;
  }
  return patch;
}

export async function renderEditor(container, params, query) {
  const editing = params.id ? await loadObjective(params.id) : null;
  if (params.id && !editing) return container.append(h("h1", "Objective not found"), emptyState("There is no draft with this link, or you cannot see it."));
  if (editing && editing.status !== "DRAFT") {
    container.append(h("h1", "Only drafts are edited in place"), h("p", "Agreed objectives change through proposals."), h("a", { class: "btn", href: href(`/objectives/${editing.id}/propose`) }, "Propose a change"));
    return;
  }
  const cycle = editing ? session.cycles.find((c) => c.id === editing.cycle.id) || editing.cycle : pickCycle(query.get("cycle"), ["PLANNING", "NEGOTIATING", "ACTIVE"]);
  if (!cycle) return container.append(h("h1", "New objective"), emptyState("No cycle to draft in"));
  const parentCycles = [cycle.id, cycle.parent && cycle.parent.id].filter(Boolean);
  const parents = (await Promise.all(parentCycles.map((id) => allPages(PARENTS, { filter: { cycleId: id } }, (d) => d.objectives))))
    .flat()
    .filter((o) => !editing || o.id !== editing.id)
    .filter((o) => o.status !== "CANCELLED");

  const viewer = session.viewer;
  const privileged = ["ADMIN", "EXEC"].includes(viewer.role);
  const myTeams = new Set(viewer.teams.map((t) => t.id));
  const teamOptions = session.teams.filter((t) => privileged || myTeams.has(t.id)).map((t) => [t.id, t.name]);
  const ownerValue = editing ? (editing.ownerUser ? "me" : editing.ownerTeam && editing.ownerTeam.id) : teamOptions[0] && teamOptions[0][0];

  const c = {
    title: h("input", { type: "text", name: "title", required: true, value: editing ? editing.title : "", placeholder: "A qualitative, inspiring goal" }),
    motivation: h("textarea", { name: "motivation", rows: "3", placeholder: "Why does this matter now?" }),
    description: h("textarea", { name: "description", rows: "2" }),
    owner: select("owner", [...teamOptions, ["me", `Me (${viewer.name})`]], ownerValue),
    parentId: select("parentId", [["", "Not aligned"], ...parents.map((o) => [o.id, o.title])], editing && editing.parent ? editing.parent.id : ""),
    commitment: select("commitment", [["ASPIRATIONAL", "Aspirational (0.7 is success)"], ["COMMITTED", "Committed (expects 1.0)"]], editing ? editing.commitment : "ASPIRATIONAL"),
    visibility: select("visibility", [["ORGANIZATION", "Whole organization"], ["TEAM", "Team and parent teams"], ["PRIVATE", "Owners and approvers"]], editing ? editing.visibility : "ORGANIZATION"),
    tags: h("input", { type: "text", name: "tags", value: editing ? editing.tags.join(", ") : "", placeholder: "growth, reliability" }),
  };
  c.motivation.value = editing ? editing.motivation : "";
  c.description.value = editing ? editing.description : "";

  const krList = h("div", { class: "kr-list" });
  const coach = h("div", { class: "coach", "aria-live": "polite" }, h("p", { class: "muted small" }, "Start typing; the coach checks your OKR as you write."));
  let lintTimer = null;
  const scheduleLint = () => {
    clearTimeout(lintTimer);
    lintTimer = setTimeout(runLint, 450);
  };
  const renumber = () => krList.querySelectorAll(".kr-edit legend").forEach((legend, i) => (legend.textContent = `Key result ${i + 1}`));
  const removeRow = (row) => {
    row.remove();
    renumber();
    scheduleLint();
  };
  const addRow = (kr) => krList.append(krRow(kr, krList.children.length, scheduleLint, removeRow));
  (editing ? editing.keyResults : [null, null]).forEach(addRow);

  const readInput = () => {
    const rows = [...krList.querySelectorAll(".kr-edit")];
    const input = {
      cycleId: cycle.id,
      title: c.title.value.trim(),
      motivation: c.motivation.value.trim(),
      description: c.description.value.trim(),
      commitment: c.commitment.value,
      visibility: c.visibility.value,
      tags: c.tags.value.split(",").map((t) => t.trim()).filter(Boolean),
      parentId: c.parentId.value || null,
      keyResults: rows.map((row) => row.readValue()),
    };
    if (c.owner.value === "me") input.ownerUserId = viewer.id;
    else input.ownerTeamId = c.owner.value;
    return { input, rows };
  };

  async function runLint() {
    const { input } = readInput();
    input.keyResults = input.keyResults.filter((kr) => kr.title);
    if (!input.title) return;
    try {
      const data = await gql(
        `query Lint($input: ObjectiveInput!) { lintObjective(input: $input) { rule severity message field } }`,
        { input },
      );
      clear(coach).append(lintList(data.lintObjective));
    } catch (error) {
      clear(coach).append(h("p", { class: "muted small" }, `The coach is unavailable: ${error.message}`));
    }
  }

  const errors = formErrors();
  const save = h("button", { type: "submit", class: "btn btn--primary" }, editing ? "Save draft" : "Create draft");
  const form = h(
    "form",
    { class: "editor card", novalidate: true, "aria-label": editing ? "Edit draft" : "New objective" },
    errors,
    field("Objective", c.title, { name: "title", hint: "Qualitative and memorable; numbers belong in key results." }),
    field("Why it matters", c.motivation, { name: "motivation" }),
    field("Description", c.description, { name: "description" }),
    h(
      "div",
      { class: "grid grid--2" },
      field("Owner", c.owner, { name: editing ? "owner" : "ownerTeamId" }),
      field("Aligned to", c.parentId, { name: "parentId" }),
      field("Commitment", c.commitment, { name: "commitment" }),
      field("Visibility", c.visibility, { name: "visibility" }),
    ),
    field("Tags", c.tags, { name: "tags", hint: "Comma separated growth areas." }),
    h("h2", { class: "section-title" }, "Key results"),
    krList,
    h("button", { type: "button", class: "btn btn--ghost", onclick: () => { addRow(null); scheduleLint(); } }, "+ Add key result"),
    h("div", { class: "editor__footer" }, h("a", { class: "btn btn--ghost", href: editing ? href(`/objectives/${editing.id}`) : href("/", { cycle: cycle.id }) }, "Cancel"), save),
  );
  if (editing) c.owner.disabled = true; // ownership is not part of ObjectivePatch
  form.addEventListener("input", scheduleLint);
  form.addEventListener("change", scheduleLint);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const { input, rows } = readInput();
    const problems = [];
    if (!input.title) problems.push({ field: "title", message: "Give the objective a title." });
    input.keyResults.forEach((kr, i) => {
      if (!kr.title) problems.push({ field: `keyResults.${i}.title`, message: "Give the key result a title." });
      if (kr.calculationType === "ABSOLUTE_TARGET" && kr.targetValue === null) problems.push({ field: `keyResults.${i}.targetValue`, message: "Enter a target." });
    });
    if (problems.length) return showErrors(form, problems);
    busy(save, async () => {
      const id = editing ? await saveEdits(editing, input, rows, form) : await create(input, form);
      if (!id) return;
      toast(editing ? "Draft saved." : "Draft created.");
      go(`/objectives/${id}`);
    }).catch((error) => showErrors(form, [{ message: error.message }]));
  });

  container.append(
    h("div", { class: "page-head" }, h("div", h("p", { class: "eyebrow" }, `${cycle.name} · ${words(cycle.phase)}`), h("h1", editing ? "Edit draft" : "New objective"))),
    h("div", { class: "layout" }, h("div", { class: "layout__main" }, form), h("aside", { class: "layout__side" }, h("section", { class: "card coach-card", "aria-label": "Coach" }, h("h2", { class: "card__title" }, "Coach"), coach))),
  );
  if (editing) runLint();
}

async function create(input, form) {
  const payload = await mutate(
    `mutation CreateObjective($input: ObjectiveInput!) { createObjective(input: $input) { objective { id } userErrors { code message field } } }`,
    { input },
    "createObjective",
  );
  if (payload.userErrors.length) {
    showErrors(form, payload.userErrors);
    return null;
  }
  return payload.objective.id;
}

const KR_FIELDS = ["title", "metricName", "unit", "startValue", "targetValue", "liftValue", "direction", "calculationType", "trackingFrequency", "rollup", "counterMetric"];

async function saveEdits(objective, input, rows, form) {
  const patch = changed(objective, { title: input.title, motivation: input.motivation, description: input.description, commitment: input.commitment, visibility: input.visibility, tags: input.tags });
  const parentBefore = objective.parent ? objective.parent.id : null;
  if (parentBefore !== input.parentId) patch.parentId = input.parentId;
  const fail = (errors, prefix = "") => {
    showErrors(form, errors.map((e) => ({ ...e, field: e.field && prefix ? `${prefix}.${e.field}` : e.field })));
    return null;
  };
  if (Object.keys(patch).length) {
    const payload = await mutate(
      `mutation UpdateObjective($id: ID!, $version: Int!, $patch: ObjectivePatch!) { updateObjective(id: $id, version: $version, patch: $patch) { objective { id version } userErrors { code message field } } }`,
      { id: objective.id, version: objective.version, patch },
      "updateObjective",
    );
    if (payload.userErrors.length) return fail(payload.userErrors);
  }
  const kept = new Set();
  for (const [index, row] of rows.entries()) {
    const value = input.keyResults[index];
    const existing = objective.keyResults.find((kr) => kr.id === row.dataset.id);
    if (existing) {
      kept.add(existing.id);
      const krPatch = changed(Object.fromEntries(KR_FIELDS.map((k) => [k, existing[k]])), value);
      if (!Object.keys(krPatch).length) continue;
      const payload = await mutate(
        `mutation UpdateKeyResult($id: ID!, $version: Int!, $patch: KeyResultPatch!) { updateKeyResult(id: $id, version: $version, patch: $patch) { keyResult { id } userErrors { code message field } } }`,
        { id: existing.id, version: existing.version, patch: krPatch },
        "updateKeyResult",
      );
      if (payload.userErrors.length) return fail(payload.userErrors, `keyResults.${index}`);
    } else {
      const payload = await mutate(
        `mutation AddKeyResult($objectiveId: ID!, $input: KeyResultInput!) { addKeyResult(objectiveId: $objectiveId, input: $input) { keyResult { id } userErrors { code message field } } }`,
        { objectiveId: objective.id, input: value },
        "addKeyResult",
      );
      if (payload.userErrors.length) return fail(payload.userErrors, `keyResults.${index}`);
    }
  }
  for (const kr of objective.keyResults) {
    if (kept.has(kr.id)) continue;
    const payload = await mutate(
      `mutation RemoveKeyResult($id: ID!) { removeKeyResult(id: $id) { objective { id } userErrors { code message field } } }`,
      { id: kr.id },
      "removeKeyResult",
    );
    if (payload.userErrors.length) return fail(payload.userErrors);
  }
  return objective.id;
}
