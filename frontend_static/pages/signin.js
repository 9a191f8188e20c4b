import { h } from "../ui.js";

// The server never sees the hash, so the page the person asked for is kept here across the IdP round trip.
export const RETURN_KEY = "okr:return-to";

function rememberPlace() {
  if (window.location.hash) sessionStorage.setItem(RETURN_KEY, window.location.hash);
}

export function renderSignIn(root, error) {
  root.append(
    h(
      "main",
      { class: "signin", id: "main" },
      h(
        "div",
        { class: "signin__card" },
        h("div", { class: "brand brand--large" }, h("span", { class: "brand__mark", "aria-hidden": "true" }, "◎"), "okr"),
        h("h1", "Goals your whole company agrees on"),
        h("p", { class: "muted" }, "Draft, negotiate, track and score your OKRs in one place. Sign in with your company account to continue."),
        error ? h("div", { class: "alert alert--error", role: "alert" }, error.message) : null,
        h("a", { class: "btn btn--primary btn--large", href: "/auth/login", "data-testid": "sign-in", onclick: rememberPlace }, "Sign in"),
        h("p", { class: "hint" }, "You will be sent to your company's single sign-on page and back."),
      ),
    ),
  );
}
