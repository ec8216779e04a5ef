/**
 * Cross-site request guard for the admin API: a state-changing request
 * (POST/PUT/PATCH/DELETE, and the live WebSocket upgrade) whose `Origin`
 * names another origin than the `Host` it was sent to, or that the browser
 * marks `Sec-Fetch-Site: cross-site`, is refused. Requests without `Origin`
 * (curl, scripts) pass: they carry no ambient browser cookie to abuse.
 */

export const MUTATING_METHODS: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Why the request is cross-origin, or null when it is not. */
export function crossOriginReason(headers: Headers): string | null {
  if (headers.get("sec-fetch-site") === "cross-site") {
    return "the browser marked this request cross-site";
  }
  const origin = headers.get("origin");
  if (origin === null) return null;
  const host = headers.get("host");
  let originHost: string;
  try {
    const u = new URL(origin);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new TypeError(u.protocol);
    originHost = u.host;
  } catch {
    return `Origin "${origin.slice(0, 100)}" is not an http(s) origin`;
  }
  if (host === null || originHost.toLowerCase() !== host.toLowerCase()) {
    return `Origin ${originHost} does not match Host ${host ?? "(none)"}`;
  }
  return null;
}
