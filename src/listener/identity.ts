/**
 * Which box this is, and every origin a phone may know it by. Browsers keep a
 * page's data per origin, so `http://m32-server.local:8080`, the box's IP
 * and its HTTPS port are three empty mixes to a phone that used another one.
 * The box has one identity (a random id made once, kept in SQLite) and tells
 * the page its other origins; the page carries a musician's mix from one to
 * another by a top-level visit (web/listener/box_identity.ts, handoff.ts).
 *
 *   GET /listener/identity   {"box_id":"…","origins":["http://192.168.1.10:8080",…],
 *                             "used":["http://192.168.1.10:8080"]}
 *                            (any origin may read it: CORS *, nothing secret);
 *                            `used`: the origins the page has been loaded from (a phone
 *                            looks for its mix only where a page has been)
 *   GET /listener/handoff    the page that reads this origin's mix for the box and
 *                            goes back to the origin that asked, with it
 */
import type { ConfigStore } from "../config/store.ts";
import { isLoopback, lanAddresses } from "../net/local_address.ts";
import { mdnsName } from "../tls/certificates.ts";

const BOX_ID_KEY = "box_id";
const LOOPBACK_NAMES = ["127.0.0.1", "localhost"];

/** The box's id: made once (random), then the same for the box's life. */
export function boxId(store: Pick<ConfigStore, "getMeta" | "setMeta">): string {
  const id = store.getMeta(BOX_ID_KEY);
  if (id) return id;
  const made = crypto.randomUUID();
  store.setMeta(BOX_ID_KEY, made);
  return made;
}

export interface OriginsInput {
  /** The address the HTTP server is bound to (0.0.0.0: every interface). */
  hostname: string;
  httpPort: number;
  /** The HTTPS listener's port while it listens, else null. */
  httpsPort: number | null;
  /** This machine's LAN IPv4 addresses. */
  addresses?: readonly string[];
  /** Its mDNS name (`<hostname>.local`). */
  mdns?: string;
}

/** Every origin (scheme://host:port) a browser may reach this box's listener page at. */
export function boxOrigins(o: OriginsInput): string[] {
  const all = o.hostname === "0.0.0.0";
  const hosts = all
    ? [...(o.addresses ?? lanAddresses()), o.mdns ?? mdnsName(), ...LOOPBACK_NAMES]
    : isLoopback(o.hostname)
    ? LOOPBACK_NAMES
    : [o.hostname, o.mdns ?? mdnsName()];
  const out: string[] = [];
  for (const h of hosts) {
    out.push(`http://${h}:${o.httpPort}`);
    if (o.httpsPort !== null) out.push(`https://${h}:${o.httpsPort}`);
  }
  return [...new Set(out)];
}

const USED_KEY = "listener_origins_used";

/** The box's origins the listener page has been loaded from, kept across restarts. */
export class UsedOrigins {
  private readonly set: Set<string>;

  constructor(private readonly store: Pick<ConfigStore, "getMeta" | "setMeta">) {
    let list: unknown = [];
    try {
      list = JSON.parse(store.getMeta(USED_KEY) ?? "[]");
    } catch { /* start afresh */ }
    this.set = new Set(Array.isArray(list) ? list.filter((o) => typeof o === "string") : []);
  }

  /** The page was served at `origin`; kept if it is one of the box's (`known`). */
  add(origin: string, known: readonly string[]): void {
    if (this.set.has(origin) || !known.includes(origin)) return;
    this.set.add(origin);
    this.store.setMeta(USED_KEY, JSON.stringify([...this.set]));
  }

  list(): string[] {
    return [...this.set];
  }
}
