// The cycle dashboard: objectives grouped by team, filters, phase transitions, CSV export.
import { allPages } from "../api.js";
import { download, toCsv } from "../csv.js";
import { go, href, queryKeeper } from "../router.js";
import { pickCycle, session, teamSubtree } from "../state.js";
import { HEALTH_WORDS, chip, plural, clear, emptyState, h, healthBadge, percent, progressBar, select, statusBadge, words } from "../ui.js";
import { cyclePhase, cyclePicker } from "./cycle.js";

const OBJECTIVES = `
  query Dashboard($filter: ObjectiveFilter, $first: Int, $after: String) {
    objectives(filter: $filter, first: $first, after: $after) {
      edges { node {
        id title status health color progress level commitment visibility tags
        ownerTeam { id name } ownerUser { id name }
        keyResults { id }
      } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

const STATUSES = ["DRAFT", "IN_REVIEW", "APPROVED", "ACTIVE", "COMPLETED", "CANCELLED"];
const HEALTHS = ["ON_TRACK", "AT_RISK", "BEHIND", "NOT_STARTED"];

export function ownerLabel(objective) {
  if (objective.ownerUser) return objective.ownerUser.name;
  return objective.ownerTeam ? `${objective.ownerTeam.name} team` : "–";
}

function applyFilters(objectives, f) {
  const teams = f.team ? teamSubtree(f.team) : null;
  const needle = (f.q || "").trim().toLowerCase();
  return objectives.filter(
    (o) =>
      (!teams || (o.ownerTeam && teams.has(o.ownerTeam.id))) &&
      (!f.owner || ownerLabel(o) === f.owner) &&
      (!f.status || o.status === f.status) &&
      (!f.health || o.health === f.health) &&
      (!f.tag || o.tags.includes(f.tag)) &&
      (!needle || o.title.toLowerCase().includes(needle)),
  );
}

function objectiveRow(o) {
  return h(
    "li",
    { class: "objective-row", dataset: { id: o.id, status: o.status } },
    h(
      "div",
      { class: "objective-row__main" },
      h("a", { class: "objective-row__title", href: href(`/objectives/${o.id}`) }, o.title),
      h(
        "div",
        { class: "objective-row__meta" },
        chip(words(o.level)),
        o.commitment === "COMMITTED" ? chip("Committed", "chip--strong") : chip("Aspirational"),
        o.visibility !== "ORGANIZATION" ? chip(o.visibility === "TEAM" ? "Team only" : "Private", "chip--lock") : null,
        o.tags.map((t) => chip(`#${t}`, "chip--tag")),
        h("span", { class: "muted" }, `${ownerLabel(o)} · ${plural(o.keyResults.length, "key result")}`),
      ),
    ),
    h("div", { class: "objective-row__status" }, statusBadge(o.status), healthBadge(o.health, o.color)),
    h(
      "div",
      { class: "objective-row__progress" },
      progressBar(o.progress, o.color, `Progress of ${o.title}`),
      h("span", { class: "objective-row__pct" }, percent(o.progress)),
    ),
  );
}

function summary(objectives) {
  const count = (health) => objectives.filter((o) => o.health === health).length;
  const live = objectives.filter((o) => o.status !== "CANCELLED");
  const avg = live.length ? live.reduce((s, o) => s + o.progress, 0) / live.length : 0;
  const card = (label, value, tone) => h("div", { class: `stat ${tone ? `stat--${tone}` : ""}` }, h("span", { class: "stat__value" }, value), h("span", { class: "stat__label" }, label));
  return h(
    "div",
    { class: "stats" },
    card("Objectives", String(objectives.length)),
    card("Average progress", percent(avg)),
    card("On track", String(count("ON_TRACK")), "green"),
    card("At risk", String(count("AT_RISK")), "yellow"),
    card("Behind", String(count("BEHIND")), "red"),
  );
}

function groups(objectives) {
  const byTeam = new Map();
  for (const o of objectives) {
    const key = o.ownerTeam ? o.ownerTeam.id : "_individual";
    if (!byTeam.has(key)) byTeam.set(key, { name: o.ownerTeam ? o.ownerTeam.name : "Individual", items: [] });
    byTeam.get(key).items.push(o);
  }
  const order = session.teams.map((t) => t.id);
  return [...byTeam.entries()].sort(([a], [b]) => order.indexOf(a) - order.indexOf(b)).map(([, g]) => g);
}

export async function renderDashboard(container, _params, query) {
  const replaceQuery = queryKeeper();
  const cycle = pickCycle(query.get("cycle"));
  if (!cycle) {
    container.append(h("h1", "Dashboard"), emptyState("No cycles yet", "An admin creates the first cycle."));
    return;
  }
  const objectives = await allPages(OBJECTIVES, { filter: { cycleId: cycle.id } }, (d) => d.objectives);
  const filters = {
    team: query.get("team") || "",
    owner: query.get("owner") || "",
    status: query.get("status") || "",
    health: query.get("health") || "",
    tag: query.get("tag") || "",
    q: query.get("q") || "",
  };

  const owners = [...new Set(objectives.map(ownerLabel))].sort();
  const tags = [...new Set(objectives.flatMap((o) => o.tags))].sort();
  const results = h("div", { class: "groups", id: "dashboard-results" });

  const controls = {
    team: select("team", [["", "All teams"], ...session.teams.map((t) => [t.id, t.name])], filters.team),
    owner: select("owner", [["", "All owners"], ...owners.map((o) => [o, o])], filters.owner),
    status: select("status", [["", "Any status"], ...STATUSES.map((s) => [s, words(s)])], filters.status),
    health: select("health", [["", "Any health"], ...HEALTHS.map((s) => [s, HEALTH_WORDS[s]])], filters.health),
    tag: select("tag", [["", "Any tag"], ...tags.map((t) => [t, `#${t}`])], filters.tag),
    q: h("input", { type: "search", name: "q", value: filters.q, placeholder: "Search titles" }),
  };
  const labels = { team: "Team", owner: "Owner", status: "Status", health: "Health", tag: "Tag", q: "Search" };

  let visible = [];
  const draw = () => {
    for (const key of Object.keys(controls)) filters[key] = controls[key].value;
    replaceQuery({ cycle: cycle.id, ...filters });
    visible = applyFilters(objectives, filters);
    clear(results);
    results.append(summary(visible));
    if (!visible.length) {
      results.append(emptyState("No objectives match", objectives.length ? "Clear a filter to see more." : "Nothing has been drafted in this cycle yet."));
      return;
    }
    for (const group of groups(visible)) {
      const avg = group.items.reduce((s, o) => s + o.progress, 0) / group.items.length;
      results.append(
        h(
          "section",
          { class: "group", "aria-label": `${group.name} objectives` },
          h("div", { class: "group__head" }, h("h2", group.name), h("span", { class: "muted" }, `${plural(group.items.length, "objective")} · ${percent(avg)} average`)),
          h("ul", { class: "objective-list" }, group.items.map(objectiveRow)),
        ),
      );
    }
  };
  for (const control of Object.values(controls)) control.addEventListener(control.tagName === "INPUT" ? "input" : "change", draw);

  const exportCsv = () => {
    const rows = visible.map((o) => [o.ownerTeam ? o.ownerTeam.name : "", o.title, ownerLabel(o), words(o.level), words(o.status), HEALTH_WORDS[o.health], Math.round(o.progress * 100), o.tags.join(" "), words(o.commitment)]);
    download(`okrs-${cycle.name.replace(/\s+/g, "-").toLowerCase()}.csv`, toCsv(["Team", "Objective", "Owner", "Level", "Status", "Health", "Progress %", "Tags", "Commitment"], rows));
  };

  const canDraft = session.viewer.role !== "VIEWER";
  container.append(
    h(
      "div",
      { class: "page-head" },
      h("div", h("p", { class: "eyebrow" }, "Cycle dashboard"), h("h1", cycle.name)),
      h(
        "div",
        { class: "page-head__actions" },
        cyclePicker(cycle, (id) => go("/", { cycle: id })),
        h("button", { type: "button", class: "btn", onclick: exportCsv, "data-testid": "export-csv" }, "Export CSV"),
        canDraft ? h("a", { class: "btn btn--primary", href: href("/objectives/new", { cycle: cycle.id }) }, "New objective") : null,
      ),
    ),
    cyclePhase(cycle, () => go("/", { cycle: cycle.id, t: Date.now() })),
    h(
      "form",
      { class: "filters", role: "search", "aria-label": "Filter objectives", onsubmit: (e) => e.preventDefault() },
      Object.entries(controls).map(([key, control]) => {
        control.id = `filter-${key}`;
        return h("div", { class: "filters__item" }, h("label", { for: control.id }, labels[key]), control);
      }),
    ),
    results,
  );
  draw();
}
