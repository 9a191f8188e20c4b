// DOM helpers. Everything is built with createElement/textContent: user text never becomes markup.

const SVG_NS = "http://www.w3.org/2000/svg";

function applyProps(el, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === "style" && typeof value === "object") {
      for (const [prop, v] of Object.entries(value)) el.style.setProperty(prop, v);
    } else if (key === "value" && "value" in el) el.value = value;
    else if (key === "checked") el.checked = Boolean(value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
}

function appendChildren(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props && (typeof props !== "object" || props instanceof Node || Array.isArray(props))) {
    children.unshift(props);
    props = {};
  }
  applyProps(el, props);
  appendChildren(el, children);
  return el;
}

export function svg(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (key === "class") el.setAttribute("class", value);
    else el.setAttribute(key, String(value));
  }
  appendChildren(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let idCounter = 0;
export function uid(prefix = "f") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

// ---- words for enums -------------------------------------------------------------------------

export function words(value) {
  if (!value) return "";
  const text = String(value).toLowerCase().replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export const HEALTH_WORDS = { ON_TRACK: "On track", AT_RISK: "At risk", BEHIND: "Behind", NOT_STARTED: "Not started" };
export const EVENT_WORDS = {
  SUBMIT: "Submit for review",
  APPROVE: "Approve",
  REQUEST_CHANGES: "Request changes",
  CANCEL: "Cancel objective",
  COMPLETE: "Mark complete",
  OPEN_NEGOTIATION: "Open negotiation",
  ACTIVATE: "Activate cycle",
  END: "End cycle",
  CLOSE: "Close cycle",
  REOPEN: "Reopen cycle",
};

export function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

export function percent(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return `${Math.round(value * 100)}%`;
}

export function num(value, unit = "") {
  if (value === null || value === undefined) return "–";
  const rounded = Math.abs(value) >= 100 ? Math.round(value * 10) / 10 : Math.round(value * 100) / 100;
  const text = rounded.toLocaleString("en-US", { maximumFractionDigits: 2 });
  if (!unit) return text;
  return unit === "%" ? `${text}%` : `${text} ${unit}`;
}

export function date(value) {
  if (!value) return "–";
  const d = new Date(value.length === 10 ? `${value}T00:00:00` : value);
  if (Number.isNaN(d.getTime())) return value;
  return d.toLocaleDateString("en-US", { year: "numeric", month: "short", day: "numeric" });
}

export function dateTime(value) {
  if (!value) return "–";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return d.toLocaleString("en-US", { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

// ---- small components ------------------------------------------------------------------------

export function progressBar(progress, color, label) {
  const value = Math.max(0, Math.min(1, progress || 0));
  const tone = (color || "GREY").toLowerCase();
  return h(
    "div",
    {
      class: `progress progress--${tone}`,
      role: "progressbar",
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-valuenow": String(Math.round(value * 100)),
      "aria-label": label || "Progress",
      dataset: { color: color || "GREY" },
    },
    h("div", { class: "progress__fill", style: { width: `${(value * 100).toFixed(1)}%` } }),
  );
}

export function healthBadge(health, color) {
  const tone = (color || "GREY").toLowerCase();
  return h("span", { class: `badge badge--${tone}`, dataset: { health } }, h("span", { class: "dot", "aria-hidden": "true" }), HEALTH_WORDS[health] || words(health));
}

export function statusBadge(status) {
  return h("span", { class: `status status--${String(status).toLowerCase()}` }, words(status));
}

export function chip(text, extra = "") {
  return h("span", { class: `chip ${extra}` }, text);
}

export function avatar(name) {
  const initials = (name || "?").split(/\s+/).map((p) => p[0]).slice(0, 2).join("").toUpperCase();
  return h("span", { class: "avatar", "aria-hidden": "true" }, initials);
}

export function emptyState(title, detail) {
  return h("div", { class: "empty" }, h("p", { class: "empty__title" }, title), detail ? h("p", { class: "muted" }, detail) : null);
}

export function loading(text = "Loading…") {
  return h("div", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), text);
}

export function errorBox(error) {
  const message = error instanceof Error ? error.message : String(error);
  return h("div", { class: "alert alert--error", role: "alert" }, message);
}

export function field(labelText, control, { hint, name } = {}) {
  if (!control.id) control.id = uid("input");
  if (name && !control.name) control.name = name;
  const errorId = `${control.id}-error`;
  control.setAttribute("aria-describedby", errorId);
  // An error describes the value that was sent; once the person edits it, it no longer applies.
  control.addEventListener("input", () => {
    const error = document.getElementById(errorId);
    if (error) error.textContent = "";
    control.removeAttribute("aria-invalid");
  });
  return h(
    "div",
    { class: "field", dataset: { field: name || control.name || "" } },
    h("label", { for: control.id }, labelText),
    control,
    hint ? h("p", { class: "hint" }, hint) : null,
    h("p", { class: "field-error", id: errorId, "aria-live": "polite" }),
  );
}

export function select(name, options, selected, props = {}) {
  return h(
    "select",
    { name, ...props },
    options.map(([value, text]) => h("option", { value, selected: String(value) === String(selected ?? "") }, text)),
  );
}

// ---- user errors next to what caused them ---------------------------------------------------

export function clearErrors(scope) {
  scope.querySelectorAll(".field-error").forEach((p) => (p.textContent = ""));
  scope.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  scope.querySelectorAll(".form-errors").forEach((el) => clear(el));
}

function fieldCandidates(path) {
  if (!path) return [];
  const parts = path.split(".");
  const out = [path];
  for (let i = 1; i < parts.length; i += 1) out.push(parts.slice(i).join("."));
  return out;
}

// Puts each userError beside the input whose data-field matches its `field`, the rest in the form's banner.
export function showErrors(scope, userErrors) {
  clearErrors(scope);
  const banner = scope.querySelector(".form-errors");
  let focused = false;
  for (const err of userErrors) {
    let target = null;
    for (const candidate of fieldCandidates(err.field)) {
      target = scope.querySelector(`[data-field="${CSS.escape(candidate)}"]`);
      if (target) break;
    }
    const p = target && target.querySelector(".field-error");
    if (p) {
      p.textContent = p.textContent ? `${p.textContent} ${err.message}` : err.message;
      const control = target.querySelector("input, select, textarea");
      if (control) {
        control.setAttribute("aria-invalid", "true");
        if (!focused) {
          control.focus();
          focused = true;
        }
      }
    } else if (banner) {
      banner.append(h("p", { role: "alert" }, err.message));
    }
  }
}

export function formErrors() {
  return h("div", { class: "form-errors", "aria-live": "assertive" });
}

// ---- toast ----------------------------------------------------------------------------------

export function toast(message, tone = "ok") {
  let host = document.getElementById("toasts");
  if (!host) {
    host = h("div", { id: "toasts", class: "toasts", "aria-live": "polite" });
    document.body.append(host);
  }
  const item = h("div", { class: `toast toast--${tone}`, role: "status" }, message);
  host.append(item);
  setTimeout(() => item.remove(), 4000);
}

export function button(text, props = {}) {
  return h("button", { type: "button", class: "btn", ...props }, text);
}

// Disables a button while its action runs so a double click cannot send two requests.
export async function busy(btn, action) {
  btn.disabled = true;
  btn.setAttribute("aria-busy", "true");
  try {
    return await action();
  } finally {
    btn.disabled = false;
    btn.removeAttribute("aria-busy");
  }
}
