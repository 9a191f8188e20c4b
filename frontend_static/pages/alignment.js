// The alignment tree: company objectives at the roots, children beneath, collapsible, coverage figures.
import { gql } from "../api.js";
import { go, href } from "../router.js";
import { pickCycle } from "../state.js";
import { emptyState, h, healthBadge, percent, progressBar } from "../ui.js";
import { cyclePicker } from "./cycle.js";

const TREE = `
  query Alignment($cycleId: ID!) {
    alignmentTree(cycleId: $cycleId) {
      nodes {
        id parentId depth restricted
        objective { id title progress alignedProgress health color level status ownerTeam { name } ownerUser { name } }
      }
      coverage { teamObjectives aligned orphans maxDepth }
    }
  }
`;

function nodeView(node, childrenOf) {
  const kids = childrenOf.get(node.id) || [];
  const o = node.objective;
  const body = node.restricted || !o
    ? h("div", { class: "tree-node tree-node--restricted", "data-testid": "restricted-node" }, h("span", { class: "chip chip--lock" }, "restricted"), h("span", "Restricted objective"), h("span", { class: "muted" }, "You cannot see this objective."))
    : h(
        "div",
        { class: "tree-node" },
        h(
          "div",
          { class: "tree-node__main" },
          h("a", { href: href(`/objectives/${o.id}`), class: "tree-node__title" }, o.title),
          h("span", { class: "muted" }, `${o.ownerUser ? o.ownerUser.name : o.ownerTeam ? o.ownerTeam.name : ""}`),
        ),
        healthBadge(o.health, o.color),
        h(
          "div",
          { class: "tree-node__progress", title: "Own progress; aligned progress also weighs the children" },
          progressBar(o.progress, o.color, `Progress of ${o.title}`),
          h("span", { class: "objective-row__pct" }, percent(o.progress)),
          kids.length ? h("span", { class: "muted small" }, `aligned ${percent(o.alignedProgress)}`) : null,
        ),
      );
  // Plain nested lists with disclosure buttons: Tab and Enter/Space work without a custom ARIA tree widget.
  if (!kids.length) return h("li", { class: "tree-item" }, body);
  const list = h("ul", kids.map((k) => nodeView(k, childrenOf)));
  const item = h("li", { class: "tree-item" });
  const title = o ? o.title : "restricted objective";
  const toggle = h("button", { type: "button", class: "tree-toggle", "aria-label": `Collapse ${title}`, "aria-expanded": "true" }, "▾");
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    toggle.setAttribute("aria-label", `${open ? "Collapse" : "Expand"} ${title}`);
    toggle.textContent = open ? "▾" : "▸";
    list.hidden = !open;
  });
  item.append(h("div", { class: "tree-row" }, toggle, body), list);
  return item;
}

export async function renderAlignment(container, _params, query) {
  const cycle = pickCycle(query.get("cycle"));
  container.append(
    h(
      "div",
      { class: "page-head" },
      h("div", h("p", { class: "eyebrow" }, "Alignment"), h("h1", cycle ? `How ${cycle.name} fits together` : "Alignment")),
      cycle ? h("div", { class: "page-head__actions" }, cyclePicker(cycle, (id) => go("/alignment", { cycle: id }))) : null,
    ),
  );
  if (!cycle) return container.append(emptyState("No cycles yet"));
  const data = await gql(TREE, { cycleId: cycle.id });
  const { nodes, coverage } = data.alignmentTree;
  const share = coverage.teamObjectives ? coverage.aligned / coverage.teamObjectives : 0;
  const card = (label, value) => h("div", { class: "stat" }, h("span", { class: "stat__value" }, value), h("span", { class: "stat__label" }, label));
  container.append(
    h(
      "div",
      { class: "stats", "data-testid": "coverage" },
      card("Team objectives aligned", `${coverage.aligned} / ${coverage.teamObjectives}`),
      card("Coverage", percent(share)),
      card("Orphans", String(coverage.orphans)),
      card("Depth", String(coverage.maxDepth)),
    ),
  );
  if (!nodes.length) return container.append(emptyState("Nothing to align yet", "Objectives you can see in this cycle appear here."));
  const ids = new Set(nodes.map((n) => n.id));
  const childrenOf = new Map();
  const roots = [];
  for (const node of nodes) {
    if (node.parentId && ids.has(node.parentId)) {
      if (!childrenOf.has(node.parentId)) childrenOf.set(node.parentId, []);
      childrenOf.get(node.parentId).push(node);
    } else roots.push(node);
  }
  const tree = h("ul", { class: "tree", "aria-label": "Objectives by alignment" }, roots.map((r) => nodeView(r, childrenOf)));
  const actions = h(
    "div",
    { class: "tree-actions" },
    h("button", { type: "button", class: "btn btn--small btn--ghost", onclick: () => tree.querySelectorAll(".tree-toggle[aria-expanded='false']").forEach((b) => b.click()) }, "Expand all"),
    h("button", { type: "button", class: "btn btn--small btn--ghost", onclick: () => tree.querySelectorAll(".tree-toggle[aria-expanded='true']").forEach((b) => b.click()) }, "Collapse all"),
  );
  container.append(h("section", { class: "card" }, actions, tree));
}
