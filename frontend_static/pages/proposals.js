// Proposals: the inbox with before/after diffs and reviews, and the form that writes a (counter-)proposal.
import { allPages, mutate } from "../api.js";
import { go, href, queryKeeper } from "../router.js";
import { session } from "../state.js";
import { busy, button, chip, clear, date, dateTime, emptyState, field, formErrors, h, select, showErrors, statusBadge, toast, words } from "../ui.js";
import { loadObjective } from "./objective.js";

const PROPOSALS = `
  query Proposals($status: ProposalStatus, $first: Int, $after: String) {
    proposals(status: $status, first: $first, after: $after) {
      edges { node {
        id status rationale baseVersion createdAt
        objective { id title version status }
        author { id name }
        changes { path before after }
        reviews { reviewer { name } decision comment at }
        comments { id body author { name } createdAt }
      } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

const TABS = [
  ["OPEN", "Waiting"],
  ["STALE", "Stale"],
  ["CHANGES_REQUESTED", "Changes requested"],
  ["ALL", "All"],
];

// "keyResults[Title].targetValue" reads as "Key result “Title” · target value" for people.
function changeLabel(path) {
  const spaced = (name) => name.replace(/([A-Z])/g, " $1").toLowerCase();
  const kr = /^keyResults\[(.*)\]\.?(.*)$/.exec(path);
  if (kr) return [h("span", { class: "muted" }, "Key result "), `“${kr[1]}”`, kr[2] ? h("span", { class: "muted" }, ` · ${spaced(kr[2])}`) : null];
  const plain = path.replace(/^objective\./, "");
  return words(spaced(plain));
}

function value(text) {
  return /^-?\d+\.0$/.test(text) ? text.slice(0, -2) : text;
}

function diffTable(changes) {
  if (!changes.length) return h("p", { class: "muted small" }, "No field changes.");
  return h(
    "table",
    { class: "diff" },
    h("caption", { class: "sr-only" }, "Changes: before and after"),
    h("thead", h("tr", h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, "Before"), h("th", { scope: "col" }, "After"))),
    h("tbody", changes.map((c) => h("tr", h("th", { scope: "row", title: c.path }, changeLabel(c.path)), h("td", { class: "diff__before" }, c.before == null ? h("span", { class: "muted" }, "—") : h("del", value(c.before))), h("td", { class: "diff__after" }, c.after == null ? h("span", { class: "muted" }, "—") : h("ins", value(c.after)))))),
  );
}

const DECISIONS = [
  ["APPROVE", "Approve", "btn--primary"],
  ["REQUEST_CHANGES", "Request changes", ""],
  ["REJECT", "Reject", "btn--danger"],
];

function proposalCard(p, reload) {
  const mine = p.author.id === session.viewer.id;
  const stale = p.status === "STALE" || (p.objective.version !== p.baseVersion && ["OPEN", "CHANGES_REQUESTED"].includes(p.status));
  const card = h(
    "article",
    { class: `card proposal ${stale ? "proposal--stale" : ""}`, id: `proposal-${p.id}`, dataset: { id: p.id, status: p.status } },
    h(
      "header",
      { class: "proposal__head" },
      h("div", h("a", { class: "proposal__title", href: href(`/objectives/${p.objective.id}`) }, p.objective.title), h("p", { class: "muted small" }, `${p.author.name}${mine ? " (you)" : ""} · ${date(p.createdAt)} · written against version ${p.baseVersion}`)),
      h("div", { class: "kr__badges" }, statusBadge(p.status), stale ? chip("Stale: the objective changed since", "chip--warn") : null),
    ),
    p.rationale ? h("blockquote", { class: "rationale" }, p.rationale) : null,
    diffTable(p.changes),
  );
  if (p.reviews.length) {
    card.append(h("ul", { class: "plain-list reviews" }, p.reviews.map((r) => h("li", h("strong", r.reviewer.name), ` ${words(r.decision).toLowerCase()} · ${dateTime(r.at)}`, r.comment ? h("span", { class: "muted" }, ` — ${r.comment}`) : null))));
  }
  if (p.status === "OPEN" && session.viewer.role !== "VIEWER") {
    const comment = h("textarea", { name: "comment", rows: "2", placeholder: "Optional for approval; say why when rejecting or requesting changes" });
    const actions = h("div", { class: "actions__buttons" });
    if (!mine) {
      for (const [decision, label, tone] of DECISIONS) {
        const btn = button(label, { class: `btn ${tone}`, dataset: { decision } });
        btn.addEventListener("click", () =>
          busy(btn, async () => {
            if (decision !== "APPROVE" && !comment.value.trim()) return showErrors(card, [{ field: "comment", message: "Add a comment so the author knows what to change." }]);
            const payload = await mutate(
              `mutation ReviewProposal($id: ID!, $decision: ReviewDecision!, $comment: String) {
                reviewProposal(id: $id, decision: $decision, comment: $comment) { proposal { id status } userErrors { code message field } }
              }`,
              { id: p.id, decision, comment: comment.value.trim() || null },
              "reviewProposal",
            );
            if (payload.userErrors.length) return showErrors(card, payload.userErrors);
            toast(`Proposal ${words(payload.proposal.status).toLowerCase()}.`);
            window.dispatchEvent(new Event("okr:changed"));
            await reload();
          }).catch((error) => showErrors(card, [{ message: error.message }])),
        );
        actions.append(btn);
      }
    } else {
      const withdraw = button("Withdraw", { class: "btn btn--ghost" });
      withdraw.addEventListener("click", () =>
        busy(withdraw, async () => {
          const payload = await mutate(`mutation Withdraw($id: ID!) { withdrawProposal(id: $id) { proposal { id status } userErrors { code message field } } }`, { id: p.id }, "withdrawProposal");
          if (payload.userErrors.length) return showErrors(card, payload.userErrors);
          await reload();
        }).catch((error) => showErrors(card, [{ message: error.message }])),
      );
      actions.append(withdraw);
    }
    card.append(h("div", { class: "proposal__actions" }, mine ? null : field("Review comment", comment, { name: "comment" }), actions, formErrors()));
  } else card.append(formErrors());
  return card;
}

export async function renderProposals(container, _params, query) {
  const replaceQuery = queryKeeper();
  const status = query.get("status") || "OPEN";
  const list = h("div", { class: "proposal-list" });
  const tabs = h(
    "div",
    { class: "tabs", role: "tablist", "aria-label": "Proposal status" },
    TABS.map(([value, label]) => h("a", { role: "tab", class: "tab", href: href("/proposals", { status: value }), "aria-selected": String(value === status) }, label)),
  );
  container.append(h("div", { class: "page-head" }, h("div", h("p", { class: "eyebrow" }, "Inbox"), h("h1", "Proposals"))), tabs, list);

  async function reload() {
    const proposals = await allPages(PROPOSALS, { status: status === "ALL" ? null : status }, (d) => d.proposals);
    clear(list);
    if (!proposals.length) {
      list.append(emptyState(status === "OPEN" ? "Inbox zero" : "No proposals here", "Changes to agreed OKRs arrive here for review."));
      return;
    }
    list.append(...proposals.map((p) => proposalCard(p, reload)));
    const focus = query.get("focus");
    if (focus) {
      const el = document.getElementById(`proposal-${focus}`);
      if (el) el.scrollIntoView({ block: "start" });
      replaceQuery({ status });
    }
  }
  await reload();
}

// ---- writing a proposal ---------------------------------------------------------------------

export async function renderProposalForm(container, params) {
  const objective = await loadObjective(params.id);
  if (!objective) return container.append(h("h1", "Objective not found"), emptyState("There is no objective with this link, or you cannot see it."));
  const counter = objective.status === "IN_REVIEW";
  const c = {
    rationale: h("textarea", { name: "rationale", rows: "3", required: true, placeholder: "Why should this change?" }),
    title: h("input", { type: "text", name: "title", value: objective.title }),
    motivation: h("textarea", { name: "motivation", rows: "2" }),
    commitment: select("commitment", [["ASPIRATIONAL", "Aspirational"], ["COMMITTED", "Committed"]], objective.commitment),
    cancel: h("input", { type: "checkbox", name: "cancel" }),
  };
  c.motivation.value = objective.motivation;
  const krRows = objective.keyResults.map((kr, i) => {
    const title = h("input", { type: "text", name: "title", value: kr.title });
    const target = h("input", { type: "number", step: "any", name: "targetValue", value: String(kr.targetValue) });
    const remove = h("input", { type: "checkbox", name: "remove" });
    const row = h(
      "fieldset",
      { class: "kr-edit" },
      h("legend", `Key result ${i + 1}`),
      h("div", { class: "grid grid--kr-title" }, field("Title", title, { name: `keyResults.${i}.patch.title` }), field(`Target${kr.unit ? ` (${kr.unit})` : ""}`, target, { name: `keyResults.${i}.patch.targetValue` })),
      h("label", { class: "check" }, remove, "Remove this key result"),
    );
    row.readChange = () => {
      if (remove.checked) return { keyResultId: kr.id, remove: true };
      const patch = {};
      if (title.value.trim() !== kr.title) patch.title = title.value.trim();
      if (target.value !== "" && Number(target.value) !== kr.targetValue) patch.targetValue = Number(target.value);
      return Object.keys(patch).length ? { keyResultId: kr.id, patch } : null;
    };
    return row;
  });
  const submit = h("button", { type: "submit", class: "btn btn--primary" }, counter ? "Send counter-proposal" : "Send proposal");
  const form = h(
    "form",
    { class: "editor card", novalidate: true },
    formErrors(),
    field("Rationale", c.rationale, { name: "rationale", hint: counter ? "The author reads this with your suggested changes." : "Reviewers see this beside the before/after diff." }),
    field("Objective", c.title, { name: "objective.title" }),
    field("Why it matters", c.motivation, { name: "objective.motivation" }),
    field("Commitment", c.commitment, { name: "objective.commitment" }),
    h("h2", { class: "section-title" }, "Key results"),
    krRows,
    h("div", { class: "field", dataset: { field: "cancel" } }, h("label", { class: "check" }, c.cancel, "Cancel this objective instead"), h("p", { class: "field-error" })),
    h("div", { class: "editor__footer" }, h("a", { class: "btn btn--ghost", href: href(`/objectives/${objective.id}`) }, "Back"), submit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (counter) return sendCounter();
    const input = { objectiveId: objective.id, baseVersion: objective.version, rationale: c.rationale.value.trim() };
    if (!input.rationale) return showErrors(form, [{ field: "rationale", message: "Explain why; reviewers decide on the rationale." }]);
    const patch = {};
    if (c.title.value.trim() !== objective.title) patch.title = c.title.value.trim();
    if (c.motivation.value.trim() !== objective.motivation) patch.motivation = c.motivation.value.trim();
    if (c.commitment.value !== objective.commitment) patch.commitment = c.commitment.value;
    if (Object.keys(patch).length) input.objective = patch;
    const krChanges = krRows.map((row) => row.readChange()).filter(Boolean);
    if (krChanges.length) input.keyResults = krChanges;
    if (c.cancel.checked) input.cancel = true;
    if (!input.objective && !input.keyResults && !input.cancel) return showErrors(form, [{ message: "Change at least one field, or choose to cancel the objective." }]);
    busy(submit, async () => {
      const payload = await mutate(
        `mutation CreateProposal($input: ProposalInput!) { createProposal(input: $input) { proposal { id } userErrors { code message field } } }`,
        { input },
        "createProposal",
      );
      if (payload.userErrors.length) return showErrors(form, payload.userErrors.map((e) => ({ ...e, field: e.field && e.field.replace(/^input\./, "") })));
      toast("Proposal sent for review.");
      go(`/objectives/${objective.id}`);
    }).catch((error) => showErrors(form, [{ message: error.message }]));
  });
  // During negotiation a counter-proposal is "request changes" whose comment spells out the
  // concrete counter-offer; the draft goes back to its author, who edits it and resubmits.
  function sendCounter() {
    const lines = [];
    if (c.title.value.trim() !== objective.title) lines.push(`Title: “${objective.title}” → “${c.title.value.trim()}”`);
    if (c.motivation.value.trim() !== objective.motivation) lines.push(`Why it matters: “${c.motivation.value.trim()}”`);
    if (c.commitment.value !== objective.commitment) lines.push(`Commitment: ${words(objective.commitment)} → ${words(c.commitment.value)}`);
    krRows.forEach((row, i) => {
      const change = row.readChange();
      const kr = objective.keyResults[i];
      if (!change) return;
      if (change.remove) lines.push(`Drop key result “${kr.title}”`);
      if (change.patch && change.patch.title) lines.push(`Key result “${kr.title}” → “${change.patch.title}”`);
      if (change.patch && change.patch.targetValue !== undefined) lines.push(`Key result “${kr.title}”: target ${kr.targetValue} → ${change.patch.targetValue}`);
    });
    if (c.cancel.checked) lines.push("Cancel this objective");
    const rationale = c.rationale.value.trim();
    if (!rationale) return showErrors(form, [{ field: "rationale", message: "Explain why; the author decides on the rationale." }]);
    if (!lines.length) return showErrors(form, [{ message: "Change at least one field, or choose to cancel the objective." }]);
    const comment = `Counter-proposal: ${rationale}\n${lines.map((l) => `• ${l}`).join("\n")}`;
    busy(submit, async () => {
      const payload = await mutate(
        `mutation Counter($id: ID!, $comment: String) { transitionObjective(id: $id, event: REQUEST_CHANGES, comment: $comment) { objective { id status } userErrors { code message field } } }`,
        { id: objective.id, comment },
        "transitionObjective",
      );
      if (payload.userErrors.length) return showErrors(form, payload.userErrors);
      toast("Counter-proposal sent; the draft is back with its author.");
      go(`/objectives/${objective.id}`);
    }).catch((error) => showErrors(form, [{ message: error.message }]));
  }

  container.append(
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: href(`/objectives/${objective.id}`) }, objective.title)),
    h("div", { class: "page-head" }, h("div", h("p", { class: "eyebrow" }, counter ? "Counter-proposal" : "Proposal"), h("h1", counter ? "Counter-propose" : "Propose a change"))),
    h("p", { class: "muted" }, counter
      ? "Suggest concrete changes; the draft goes back to its author with your counter-proposal as a comment."
      : `Written against version ${objective.version}. If the objective changes before approval, the proposal is marked stale and must be revised.`),
    form,
  );
}
