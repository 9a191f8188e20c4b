// Entry point: loads the session, draws the shell (header, navigation) and renders the routed page.
import { signOut } from "./api.js";
import { currentLocation, href, match, route } from "./router.js";
import { loadSession, loadUnread, session } from "./state.js";
import { clear, errorBox, h, loading, svg } from "./ui.js";
import { RETURN_KEY, renderSignIn } from "./pages/signin.js";
import { renderDashboard } from "./pages/dashboard.js";
import { renderAlignment } from "./pages/alignment.js";
import { renderObjective } from "./pages/objective.js";
import { renderEditor } from "./pages/editor.js";
import { renderProposalForm, renderProposals } from "./pages/proposals.js";
import { renderReview } from "./pages/review.js";
import { renderRetrospectives } from "./pages/retrospectives.js";
import { renderNotifications } from "./pages/notifications.js";

route("/", renderDashboard);
route("/alignment", renderAlignment);
route("/objectives/new", renderEditor);
route("/objectives/:id", renderObjective);
route("/objectives/:id/edit", renderEditor);
route("/objectives/:id/propose", renderProposalForm);
route("/proposals", renderProposals);
route("/review", renderReview);
route("/retrospectives", renderRetrospectives);
route("/notifications", renderNotifications);

const NAV = [
  ["/", "Dashboard"],
  ["/alignment", "Alignment"],
  ["/proposals", "Proposals"],
  ["/review", "Review"],
  ["/retrospectives", "Retrospectives"],
];

const root = document.getElementById("app");

function bell() {
  const count = session.unread;
  return h(
    "a",
    { class: "bell", href: href("/notifications"), "aria-label": `Notifications, ${count} unread`, id: "bell" },
    svg("svg", { class: "bell__icon", viewBox: "0 0 24 24", width: 20, height: 20, "aria-hidden": "true" },
      svg("path", { d: "M6 8a6 6 0 1 1 12 0c0 7 3 9 3 9H3s3-2 3-9", fill: "none", stroke: "currentColor", "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round" }),
      svg("path", { d: "M10.3 21a1.94 1.94 0 0 0 3.4 0", fill: "none", stroke: "currentColor", "stroke-width": 2, "stroke-linecap": "round" })),
    count ? h("span", { class: "bell__count", "data-testid": "unread-count" }, String(count)) : null,
  );
}

export async function refreshBell() {
  await loadUnread();
  const old = document.getElementById("bell");
  if (old) old.replaceWith(bell());
}

function header(path) {
  const viewer = session.viewer;
  return h(
    "header",
    { class: "topbar" },
    h(
      "div",
      { class: "topbar__inner" },
      h("a", { class: "brand", href: href("/") }, h("span", { class: "brand__mark", "aria-hidden": "true" }, "◎"), "okr"),
      h(
        "nav",
        { class: "nav", "aria-label": "Main" },
        NAV.map(([to, label]) =>
          h("a", { href: href(to), class: "nav__link", "aria-current": (to === "/" ? path === "/" : path.startsWith(to)) ? "page" : false }, label),
        ),
      ),
      h(
        "div",
        { class: "topbar__user" },
        bell(),
        h(
          "div",
          { class: "who", "data-testid": "viewer" },
          h("span", { class: "who__name" }, viewer.name),
          h("span", { class: `role role--${viewer.role.toLowerCase()}`, "data-testid": "viewer-role" }, viewer.role),
        ),
        h("button", { type: "button", class: "btn btn--ghost btn--small", onclick: () => signOut() }, "Sign out"),
      ),
    ),
  );
}

let renderToken = 0;

async function render() {
  const token = (renderToken += 1);
  const { path, query } = currentLocation();
  if (!session.viewer) return;
  const found = match(path);
  clear(root);
  const main = h("main", { id: "main", class: "page", tabindex: "-1" });
  root.append(h("a", { class: "skip", href: "#main", onclick: (e) => { e.preventDefault(); main.focus(); } }, "Skip to content"), header(path), main);
  if (!found) {
    main.append(h("h1", "Page not found"), h("p", h("a", { href: href("/") }, "Back to the dashboard")));
    return;
  }
  main.append(loading());
  try {
    const content = h("div");
    await found.page(content, found.params, query);
    if (token !== renderToken) return; // a newer navigation won
    clear(main).append(content);
    const heading = main.querySelector("h1");
    if (heading) document.title = `${heading.textContent} · okr`;
  } catch (error) {
    if (token !== renderToken) return;
    if (error.signedOut) return start();
    clear(main).append(errorBox(error));
  }
}

async function start() {
  clear(root).append(loading("Signing you in…"));
  try {
    await loadSession();
  } catch (error) {
    session.viewer = null;
    clear(root);
    if (error.signedOut) renderSignIn(root);
    else renderSignIn(root, error);
    return;
  }
  const returnTo = sessionStorage.getItem(RETURN_KEY);
  if (returnTo) {
    sessionStorage.removeItem(RETURN_KEY);
    if (returnTo !== window.location.hash) {
      window.location.hash = returnTo; // the hashchange listener renders it
      await loadUnread();
      return;
    }
  }
  await loadUnread();
  await render();
}

window.addEventListener("hashchange", () => {
  render().then(() => window.scrollTo(0, 0));
});
window.addEventListener("okr:changed", () => refreshBell());

start();
