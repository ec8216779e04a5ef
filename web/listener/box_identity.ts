/// <reference lib="dom" />
/**
 * One mix per box, whatever name the phone used to reach it. Browsers keep
 * data per origin, so the page asks the box who it is (GET /listener/identity)
 * and keeps the mix under the box's id. When this origin has no mix for the
 * box yet, the page looks for one at the box's other origins (the IP, the
 * `.local` name, the HTTPS port) and, if one answers, visits its handoff page
 * (./handoff.ts), which comes back here with the mix in the URL fragment:
 *
 *   this origin ──▶ other/listener/handoff#box=<id>&return=<this page>
 *   other origin ──▶ <this page>#m32-mix=<base64url JSON {settings, presets}> | #m32-mix=none
 *
 * Tried once per box and browser session (sessionStorage), so a box whose
 * other origins have nothing never loops. The fragment never reaches a server.
 */

export const MIX_FRAGMENT = "m32-mix";
/** An origin of the box that does not answer this fast is not reachable from this phone. */
const PROBE_TIMEOUT_MS = 1500;
const TRIED_PREFIX = "m32-handoff-tried:";

export interface BoxIdentity {
  box_id: string;
  origins: string[];
  /** Origins the page has been loaded from (only those can hold a mix). */
  used?: string[];
}

export interface HandedMix {
  settings: unknown;
  presets: unknown;
}

export async function fetchIdentity(base = ""): Promise<BoxIdentity | null> {
  try {
    const r = await fetch(`${base}/listener/identity`, {
      cache: "no-store",
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    if (!r.ok) return null;
    const v = await r.json();
    return typeof v?.box_id === "string" && Array.isArray(v.origins) ? v : null;
  } catch {
    return null;
  }
}

export function encodeMix(mix: HandedMix): string {
  const bytes = new TextEncoder().encode(JSON.stringify(mix));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeMix(text: string): HandedMix | null {
  try {
    const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    const v = JSON.parse(new TextDecoder().decode(bytes));
    return typeof v === "object" && v !== null ? v : null;
  } catch {
    return null;
  }
}

/**
 * A mix handed over in this page's URL fragment (removed from the address
 * bar): the mix, "none" (the other origin had nothing), or null (no handoff).
 */
export function takeHandedMix(): HandedMix | "none" | null {
  const h = new URLSearchParams(location.hash.slice(1));
  const v = h.get(MIX_FRAGMENT);
  if (v === null) return null;
  history.replaceState(null, "", location.pathname + location.search);
  return v === "none" ? "none" : decodeMix(v);
}

/**
 * Looks for the box's other origins that answer as the same box; visits the
 * first one's handoff page and returns true (the page is leaving), else false.
 */
export async function fetchMixFromOtherOrigin(id: BoxIdentity): Promise<boolean> {
  const key = TRIED_PREFIX + id.box_id;
  try {
    if (sessionStorage.getItem(key) !== null) return false;
    sessionStorage.setItem(key, "1");
  } catch {
    return false; // no session storage: never risk a loop
  }
  const others = (id.used ?? id.origins).filter((o) =>
    o !== location.origin && id.origins.includes(o)
  );
  if (others.length === 0) return false;
  const answers = await Promise.all(others.map(async (o) => {
    const other = await fetchIdentity(o);
    return other?.box_id === id.box_id ? o : null;
  }));
  const found = answers.find((o) => o !== null);
  if (!found) return false;
  const back = location.href.split("#")[0];
  location.assign(
    `${found}/listener/handoff#box=${encodeURIComponent(id.box_id)}&return=${
      encodeURIComponent(back)
    }`,
  );
  return true;
}
