// The only way the app talks to the server: POST /graphql with the session cookie and the CSRF echo.

export class ApiError extends Error {
  constructor(message, { status = 0, signedOut = false } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.signedOut = signedOut;
  }
}

function readCookie(name) {
  const prefix = `${name}=`;
  for (const part of document.cookie.split(";")) {
    const trimmed = part.trim();
    if (trimmed.startsWith(prefix)) return decodeURIComponent(trimmed.slice(prefix.length));
  }
  return "";
}

// Double submit (DESIGN §5): the server compares this header with its readable okr_csrf cookie.
export function csrfHeaders() {
  const token = readCookie("okr_csrf");
  return token ? { "X-CSRF-Token": token } : {};
}

const SIGNED_OUT_MESSAGES = ["Sign in to use the API."];

export async function gql(query, variables = {}) {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", ...csrfHeaders() },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError("The server cannot be reached. Check your connection and try again.");
  }
  if (response.status === 401) throw new ApiError("Your session has ended. Sign in again.", { status: 401, signedOut: true });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The server answered ${response.status} without data.`, { status: response.status });
  }
  if (response.status === 403 && !body?.data) {
    throw new ApiError(body?.errors?.[0]?.message || body?.detail || "The request was refused (403).", { status: 403 });
  }
  if (body.errors && body.errors.length) {
    const message = body.errors.map((e) => e.message).join(" ");
    const signedOut = body.errors.some((e) => SIGNED_OUT_MESSAGES.includes(e.message));
    throw new ApiError(message, { status: response.status, signedOut });
  }
  return body.data;
}

// Runs a mutation whose payload carries userErrors; returns the payload (userErrors may be non-empty).
export async function mutate(query, variables, payloadName) {
  const data = await gql(query, variables);
  const payload = data[payloadName];
  if (payload && typeof payload === "object" && !Array.isArray(payload)) {
    payload.userErrors = payload.userErrors || [];
  }
  return payload;
}

export async function signOut() {
  try {
    const response = await fetch("/auth/logout", { method: "POST", credentials: "same-origin", headers: csrfHeaders() });
    if (response.ok || response.redirected || response.status === 303 || response.status === 302) {
      window.location.assign("/");
      return;
    }
  } catch {
    // fall through to a plain navigation, which a GET-only logout endpoint accepts
  }
  window.location.assign("/auth/logout");
}

// Follows a connection's cursors to the end (the server caps a page at 100).
export async function allPages(query, variables, pick) {
  const nodes = [];
  let after = null;
  for (let guard = 0; guard < 50; guard += 1) {
    const data = await gql(query, { ...variables, first: 100, after });
    const connection = pick(data);
    nodes.push(...connection.edges.map((e) => e.node));
    if (!connection.pageInfo.hasNextPage) break;
    after = connection.pageInfo.endCursor;
  }
  return nodes;
}
