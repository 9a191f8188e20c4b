// The cycle picker and the cycle's phase with the transitions this viewer may fire.
import { mutate } from "../api.js";
import { session } from "../state.js";
import { EVENT_WORDS, busy, button, date, formErrors, h, percent, select, showErrors, toast, words } from "../ui.js";

export function cyclePicker(current, onChange) {
  const options = session.cycles.map((c) => [c.id, `${c.name} · ${words(c.phase)}`]);
  const control = select("cycle", options, current && current.id, { id: "cycle-select", class: "select--inline" });
  control.addEventListener("change", () => onChange(control.value));
  return h("div", { class: "cycle-picker" }, h("label", { for: "cycle-select", class: "sr-only" }, "Cycle"), control);
}

const NEEDS_REASON = new Set(["REOPEN"]);
const CAN_FORCE = new Set(["ACTIVATE", "CLOSE"]);

export function cyclePhase(cycle, onChanged) {
  const errors = formErrors();
  const reason = h("input", { type: "text", name: "reason", placeholder: "Reason (needed to reopen or force)", class: "input--small" });
  const force = h("input", { type: "checkbox", name: "force", id: "cycle-force" });
  const events = cycle.availableTransitions || [];
  const box = h(
    "section",
    { class: "phase", "aria-label": "Cycle phase" },
    h(
      "div",
      { class: "phase__info" },
      h("span", { class: `phase__chip phase--${cycle.phase.toLowerCase()}`, "data-testid": "cycle-phase" }, words(cycle.phase)),
      h("span", { class: "muted" }, `${date(cycle.startsOn)} – ${date(cycle.endsOn)}`),
      h("span", { class: "muted" }, `Expected progress today: ${percent(cycle.expectedProgress)}`),
    ),
  );
  if (events.length) {
    const actions = h("div", { class: "phase__actions", "data-field": "reason" });
    for (const event of events) {
      const btn = button(EVENT_WORDS[event] || words(event), { class: "btn btn--small", dataset: { event } });
      btn.addEventListener("click", () =>
        busy(btn, async () => {
          const payload = await mutate(
            `mutation TransitionCycle($id: ID!, $event: CycleEvent!, $reason: String, $force: Boolean) {
              transitionCycle(id: $id, event: $event, reason: $reason, force: $force) {
                cycle { id phase availableTransitions } userErrors { code message field }
              }
            }`,
            { id: cycle.id, event, reason: reason.value || null, force: CAN_FORCE.has(event) ? force.checked : null },
            "transitionCycle",
          );
          if (payload.userErrors.length) return showErrors(box, payload.userErrors);
          Object.assign(cycle, payload.cycle);
          toast(`Cycle is now ${words(payload.cycle.phase).toLowerCase()}.`);
          onChanged();
        }).catch((error) => showErrors(box, [{ message: error.message }])),
      );
      actions.append(btn);
    }
    const needsInputs = events.some((e) => NEEDS_REASON.has(e) || CAN_FORCE.has(e));
    if (needsInputs) {
      actions.append(
        h("label", { class: "sr-only", for: "cycle-reason" }, "Reason"),
        Object.assign(reason, { id: "cycle-reason" }),
      );
      if (events.some((e) => CAN_FORCE.has(e))) actions.append(h("label", { class: "check" }, force, "Force"));
    }
    actions.append(h("p", { class: "field-error" }));
    box.append(actions);
  }
  box.append(errors);
  return box;
}
