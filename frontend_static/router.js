// Hash routing (#/path?query) so the server needs no fallback route for client-side pages.

const routes = [];

export function route(pattern, page) {
  const keys = [];
  const regex = new RegExp(
    `^${pattern.replace(/\/:([a-zA-Z]+)/g, (_, key) => {
      keys.push(key);
      return "/([^/]+)";
    })}$`,
  );
  routes.push({ regex, keys, page });
}

export function currentLocation() {
  const raw = window.location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = raw.split("?");
  return { path: path || "/", query: new URLSearchParams(search) };
}

export function match(path) {
  for (const { regex, keys, page } of routes) {
    const found = regex.exec(path);
    if (found) {
      const params = {};
      keys.forEach((key, i) => (params[key] = decodeURIComponent(found[i + 1])));
      return { page, params };
    }
  }
  return null;
}

export function href(path, query = {}) {
  const search = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  const qs = search.toString();
  return `#${path}${qs ? `?${qs}` : ""}`;
}

export function go(path, query) {
  window.location.hash = href(path, query);
}

// Lets a page keep its filters in the URL without re-rendering. Taken when the page starts to
// render: a page the reader has already navigated away from (its data still arriving) must not
// write its query onto the next page's address, which that page may not have read yet.
export function queryKeeper() {
  let owned = window.location.hash;
  return (query) => {
    if (window.location.hash !== owned) return;
    history.replaceState(null, "", href(currentLocation().path, query));
    owned = window.location.hash;
  };
}
