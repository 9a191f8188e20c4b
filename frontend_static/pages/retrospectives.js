// Retrospectives: per team average score, committed objectives missed, and calibration across cycles.
import { gql } from "../api.js";
import { go } from "../router.js";
import { pickCycle } from "../state.js";
import { chip, emptyState, h } from "../ui.js";
import { cyclePicker } from "./cycle.js";
import { grade } from "./review.js";

export async function renderRetrospectives(container, _params, query) {
  const cycle = pickCycle(query.get("cycle"), ["CLOSED", "REVIEWING"]);
  container.append(
    h(
      "div",
      { class: "page-head" },
      h("div", h("p", { class: "eyebrow" }, "Retrospectives"), h("h1", cycle ? `${cycle.name} retrospectives` : "Retrospectives")),
      cycle ? h("div", { class: "page-head__actions" }, cyclePicker(cycle, (id) => go("/retrospectives", { cycle: id }))) : null,
    ),
  );
  if (!cycle) return container.append(emptyState("No cycles yet"));
  const data = await gql(
    `query Retrospectives($cycleId: ID!) { retrospectives(cycleId: $cycleId) { team { id name } averageScore committedMissed calibration published } }`,
    { cycleId: cycle.id },
  );
  const rows = data.retrospectives;
  if (!rows.length) return container.append(emptyState("No retrospectives yet", "Teams publish theirs after scoring."));
  container.append(
    h(
      "div",
      { class: "card table-card" },
      h(
        "table",
        { class: "table" },
        h("caption", { class: "sr-only" }, `Retrospectives of ${cycle.name}`),
        h("thead", h("tr", ["Team", "Average score", "Committed missed", "Calibration", "Status"].map((t) => h("th", { scope: "col" }, t)))),
        h(
          "tbody",
          rows.map((r) =>
            h(
              "tr",
              { dataset: { team: r.team.id } },
              h("th", { scope: "row" }, r.team.name),
              h("td", r.averageScore == null ? "–" : h("span", { class: `score-pill score--${grade(r.averageScore)}` }, r.averageScore.toFixed(2))),
              h("td", r.committedMissed ? h("span", { class: "text-red" }, String(r.committedMissed)) : "0"),
              h("td", r.calibration || "–"),
              h("td", r.published ? chip("Published", "chip--green") : chip("Draft")),
            ),
          ),
        ),
      ),
    ),
  );
}
