// Notifications: newest first, mark one or all read; the header count follows.
import { allPages, mutate } from "../api.js";
import { href } from "../router.js";
import { busy, clear, dateTime, emptyState, h, showErrors, formErrors } from "../ui.js";

const NOTIFICATIONS = `
  query Notifications($first: Int, $after: String) {
    notifications(first: $first, after: $after) {
      edges { node {
        id kind message read createdAt
        subject { __typename id ... on Proposal { objective { id } } ... on KeyResult { objective { id } } }
      } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

function subjectLink(subject) {
  if (!subject) return null;
  if (subject.__typename === "Objective") return href(`/objectives/${subject.id}`);
  if (subject.__typename === "Proposal") return href("/proposals", { focus: subject.id, status: "ALL" });
  if (subject.__typename === "KeyResult" && subject.objective) return href(`/objectives/${subject.objective.id}`);
  return null;
}

async function markRead(ids) {
  return mutate(`mutation MarkRead($ids: [ID!]) { markNotificationsRead(ids: $ids) }`, { ids }, "markNotificationsRead");
}

export async function renderNotifications(container) {
  const list = h("ul", { class: "notifications" });
  const errors = formErrors();
  const markAll = h("button", { type: "button", class: "btn" }, "Mark all read");
  container.append(h("div", { class: "page-head" }, h("div", h("p", { class: "eyebrow" }, "Inbox"), h("h1", "Notifications")), h("div", { class: "page-head__actions" }, markAll)), errors, list);

  async function reload() {
    const items = await allPages(NOTIFICATIONS, {}, (d) => d.notifications);
    clear(list);
    markAll.disabled = !items.some((n) => !n.read);
    if (!items.length) return list.append(h("li", emptyState("You're all caught up", "Reminders, review requests and at-risk alerts appear here.")));
    for (const n of items) {
      const link = subjectLink(n.subject);
      const read = h("button", { type: "button", class: "btn btn--ghost btn--small" }, "Mark read");
      read.addEventListener("click", () => busy(read, async () => { await markRead([n.id]); await changed(); }).catch((e) => showErrors(container, [{ message: e.message }])));
      list.append(
        h(
          "li",
          { class: `notification ${n.read ? "" : "notification--unread"}`, dataset: { id: n.id } },
          h("span", { class: "notification__dot", "aria-hidden": "true" }),
          h("div", { class: "notification__body" }, link ? h("a", { href: link }, n.message) : h("p", n.message), h("p", { class: "muted small" }, `${n.kind.replace(/[._]/g, " ")} · ${dateTime(n.createdAt)}`)),
          n.read ? h("span", { class: "sr-only" }, "read") : read,
        ),
      );
    }
  }
  async function changed() {
    window.dispatchEvent(new Event("okr:changed"));
    await reload();
  }
  markAll.addEventListener("click", () => busy(markAll, async () => { await markRead(null); await changed(); }).catch((e) => showErrors(container, [{ message: e.message }])));
  await reload();
}
