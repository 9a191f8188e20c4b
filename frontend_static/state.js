// Per-session data every page needs: who is signed in, the cycles and teams of the organization.
import { gql } from "./api.js";

export const session = { viewer: null, cycles: [], teams: [], unread: 0 };

export async function loadSession() {
  const data = await gql(`
    query Session {
      viewer { id name email role teams { id name } }
      cycles { id name kind phase startsOn endsOn expectedProgress availableTransitions parent { id } }
      teams { id name parent { id } leads { id name } }
    }
  `);
  session.viewer = data.viewer;
  session.cycles = data.cycles;
  session.teams = data.teams;
  return session;
}

export async function loadUnread() {
  try {
    const data = await gql(`query Unread { notifications(unreadOnly: true, first: 1) { totalCount } }`);
    session.unread = data.notifications.totalCount;
  } catch {
    session.unread = 0;
  }
  return session.unread;
}

// The cycle a page opens on: the one in the URL, else the running quarter, else the newest.
export function pickCycle(cycleId, preferPhases = ["ACTIVE"]) {
  const byId = session.cycles.find((c) => c.id === cycleId);
  if (byId) return byId;
  for (const phase of preferPhases) {
    const quarter = session.cycles.find((c) => c.phase === phase && c.kind === "QUARTER");
    if (quarter) return quarter;
    const any = session.cycles.find((c) => c.phase === phase);
    if (any) return any;
  }
  return session.cycles[0] || null;
}

export function teamSubtree(teamId) {
  const ids = new Set([teamId]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const team of session.teams) {
      if (team.parent && ids.has(team.parent.id) && !ids.has(team.id)) {
        ids.add(team.id);
        grew = true;
      }
    }
  }
  return ids;
}

export function isLeadOf(teamId) {
  const team = session.teams.find((t) => t.id === teamId);
  return Boolean(team && team.leads.some((u) => u.id === session.viewer.id));
}
