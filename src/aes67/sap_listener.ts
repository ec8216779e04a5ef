/**
 * Listens for SAP (RFC 2974) on 239.255.255.255:9875 and keeps the AES67
 * sessions heard (docs/protocol.md §13): announcements add or refresh a
 * session, deletions remove it, and a session not heard for ten of its
 * announcement intervals or `minTimeoutMs` (whichever is longer; RFC 2974 §5
 * says one hour) is dropped.
 *
 * Packets are untrusted: `SapDirectory.handle` never throws; a malformed,
 * encrypted or compressed packet is counted by reason and ignored.
 *
 * A session is keyed by its SDP origin (`o=` username, session id, address),
 * which a sender keeps across SDP versions; a deletion may carry only the
 * `o=` line, or nothing we can parse, then the SAP source and message id
 * hash find it.
 */
import { parseSdp, type SdpSession } from "./sdp_parse.ts";

export const SAP_GROUP = "239.255.255.255";
export const SAP_PORT = 9875;
/** RFC 2974 §5: a session times out after 10 intervals or one hour, whichever is longer. */
export const SAP_MIN_TIMEOUT_MS = 3_600_000;
export const SAP_TIMEOUT_INTERVALS = 10;
/** The announcement interval assumed before two announcements are heard (AES67 senders use 30 s). */
export const SAP_DEFAULT_INTERVAL_MS = 30_000;
/** Most sessions kept (a flood of distinct origins cannot grow memory without bound). */
export const SAP_MAX_SESSIONS = 512;
const SAP_HEADER_BYTES = 4;
const MIME_SDP = "application/sdp";

export interface SapSession {
  /** The SDP origin that names this session. */
  key: string;
  sdp: string;
  session: SdpSession;
  /** The SAP header's originating source. */
  sapSource: string;
  msgIdHash: number;
  firstHeardMs: number;
  lastHeardMs: number;
  /** Estimated time between announcements (ms). */
  intervalMs: number;
  announcements: number;
}

export type SapPacket =
  | {
    kind: "announce" | "delete";
    sapSource: string;
    msgIdHash: number;
    payload: string;
  }
  | { kind: "invalid"; reason: string };

/** Parses one SAP datagram (RFC 2974 §3); never throws. */
export function parseSapPacket(p: Uint8Array): SapPacket {
  if (p.length < SAP_HEADER_BYTES) return { kind: "invalid", reason: "short" };
  const b0 = p[0];
  const version = b0 >> 5;
  if (version !== 1) return { kind: "invalid", reason: "version" };
  const ipv6 = (b0 & 0x10) !== 0;
  const del = (b0 & 0x04) !== 0;
  if ((b0 & 0x02) !== 0) return { kind: "invalid", reason: "encrypted" };
  if ((b0 & 0x01) !== 0) return { kind: "invalid", reason: "compressed" };
  const authBytes = p[1] * 4;
  const msgIdHash = (p[2] << 8) | p[3];
  const srcBytes = ipv6 ? 16 : 4;
  let off = SAP_HEADER_BYTES + srcBytes + authBytes;
  if (off > p.length) return { kind: "invalid", reason: "short" };
  const src = p.subarray(SAP_HEADER_BYTES, SAP_HEADER_BYTES + srcBytes);
  const sapSource = ipv6
    ? Array.from({ length: 8 }, (_, i) => ((src[2 * i] << 8) | src[2 * i + 1]).toString(16))
      .join(":")
    : src.join(".");
  // An optional payload type (a NUL-terminated MIME type) precedes an SDP that does not start "v=0".
  const startsV0 = p[off] === 0x76 && p[off + 1] === 0x3d && p[off + 2] === 0x30;
  if (!startsV0) {
    const nul = p.indexOf(0, off);
    if (nul === -1) {
      if (!del) return { kind: "invalid", reason: "payload_type" };
    } else {
      const mime = new TextDecoder().decode(p.subarray(off, nul)).trim().toLowerCase();
      if (mime !== MIME_SDP) return { kind: "invalid", reason: "payload_type" };
      off = nul + 1;
    }
  }
  let payload: string;
  try {
    payload = new TextDecoder("utf-8", { fatal: true }).decode(p.subarray(off));
  } catch {
    return { kind: "invalid", reason: "not_utf8" };
  }
  return { kind: del ? "delete" : "announce", sapSource, msgIdHash, payload };
}

/** The `o=` fields that name a session across versions: username, session id, address. */
function originKey(s: SdpSession): string {
  const o = s.origin;
  return `${o.username} ${o.sessionId} IN IP4 ${o.address}`;
}

/** Origin key from a deletion payload that may be only an `o=` line. */
function originKeyOfText(text: string): string | null {
  const m = /^o=(\S+) (\S+) \S+ \S+ \S+ (\S+)\s*$/m.exec(text);
  return m ? `${m[1]} ${m[2]} IN IP4 ${m[3]}` : null;
}

export interface SapDirectoryOptions {
  minTimeoutMs?: number;
  maxSessions?: number;
}

/** What SAP has told us (no sockets: see SapListener). */
export class SapDirectory {
  private readonly sessions = new Map<string, SapSession>();
  /** Ignored packets by reason (invalid header, bad SDP, …). */
  readonly ignored = new Map<string, number>();
  private readonly minTimeoutMs: number;
  private readonly maxSessions: number;

  constructor(opts: SapDirectoryOptions = {}) {
    this.minTimeoutMs = opts.minTimeoutMs ?? SAP_MIN_TIMEOUT_MS;
    this.maxSessions = opts.maxSessions ?? SAP_MAX_SESSIONS;
  }

  private ignore(reason: string): "ignored" {
    this.ignored.set(reason, (this.ignored.get(reason) ?? 0) + 1);
    return "ignored";
  }

  /** One datagram; returns what it did. */
  handle(packet: Uint8Array, nowMs: number): "announce" | "delete" | "ignored" {
    const p = parseSapPacket(packet);
    if (p.kind === "invalid") return this.ignore(p.reason);
    if (p.kind === "delete") {
      const key = originKeyOfText(p.payload);
      let hit = key !== null && this.sessions.delete(key);
      if (!hit) {
        for (const [k, s] of this.sessions) {
          if (s.sapSource === p.sapSource && s.msgIdHash === p.msgIdHash) {
            hit = this.sessions.delete(k);
          }
        }
      }
      return hit ? "delete" : this.ignore("unknown_deletion");
    }
    const parsed = parseSdp(p.payload);
    if (!parsed.ok) return this.ignore("bad_sdp");
    const key = originKey(parsed.session);
    const old = this.sessions.get(key);
    if (old) {
      const gap = nowMs - old.lastHeardMs;
      // A repeat within a second (two interfaces, a burst) says nothing about the interval.
      if (gap >= 1000) {
        old.intervalMs = old.announcements === 1 ? gap : (old.intervalMs * 3 + gap) / 4;
      }
      old.sdp = p.payload;
      old.session = parsed.session;
      old.sapSource = p.sapSource;
      old.msgIdHash = p.msgIdHash;
      old.lastHeardMs = nowMs;
      old.announcements++;
      return "announce";
    }
    this.expire(nowMs);
    if (this.sessions.size >= this.maxSessions) return this.ignore("too_many_sessions");
    this.sessions.set(key, {
      key,
      sdp: p.payload,
      session: parsed.session,
      sapSource: p.sapSource,
      msgIdHash: p.msgIdHash,
      firstHeardMs: nowMs,
      lastHeardMs: nowMs,
      intervalMs: SAP_DEFAULT_INTERVAL_MS,
      announcements: 1,
    });
    return "announce";
  }

  /** Drops sessions not heard for their timeout. */
  expire(nowMs: number): void {
    for (const [k, s] of this.sessions) {
      const timeout = Math.max(SAP_TIMEOUT_INTERVALS * s.intervalMs, this.minTimeoutMs);
      if (nowMs - s.lastHeardMs > timeout) this.sessions.delete(k);
    }
  }

  /** The sessions heard, by name then origin. */
  list(nowMs: number): SapSession[] {
    this.expire(nowMs);
    return [...this.sessions.values()].sort((a, b) =>
      a.session.name.localeCompare(b.session.name, "en", { numeric: true }) ||
      a.key.localeCompare(b.key)
    );
  }

  /**
   * The sessions `wanted` names (docs/protocol.md §13 `input.session`): one
   * session whose whole `s=` line it is, else a sender's `name`: its sessions
   * `s=<name> <k>` in order of k (the most recently heard sender of that
   * name, when several are). Empty when nothing matches.
   */
  find(wanted: string, nowMs: number): SapSession[] {
    const all = this.list(nowMs);
    const exact = all.filter((s) => s.session.name === wanted);
    if (exact.length > 0) {
      return [exact.reduce((a, b) => (b.lastHeardMs > a.lastHeardMs ? b : a))];
    }
    const bySender = new Map<string, { k: number; s: SapSession }[]>();
    for (const s of all) {
      const n = s.session.name;
      if (!n.startsWith(wanted + " ")) continue;
      const k = n.slice(wanted.length + 1);
      if (!/^\d{1,4}$/.test(k)) continue;
      const sender = s.session.origin.address;
      const list = bySender.get(sender) ?? [];
      list.push({ k: Number(k), s });
      bySender.set(sender, list);
    }
    let best: { k: number; s: SapSession }[] = [];
    let bestHeard = -Infinity;
    for (const list of bySender.values()) {
      const heard = Math.max(...list.map((e) => e.s.lastHeardMs));
      if (heard > bestHeard) {
        best = list;
        bestHeard = heard;
      }
    }
    return best.sort((a, b) => a.k - b.k).map((e) => e.s);
  }
}

export interface SapListenerOptions extends SapDirectoryOptions {
  /** Address of the interface to join on (default "0.0.0.0": the kernel's route for the group). */
  interfaceAddress?: string;
  port?: number;
  group?: string;
  now?: () => number;
  onError?: (e: Error) => void;
}

/** The SAP socket feeding a SapDirectory. */
export class SapListener {
  readonly directory: SapDirectory;
  private conn: Deno.DatagramConn | null = null;
  private closed = false;
  private loop: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly opts: SapListenerOptions = {}) {
    this.directory = new SapDirectory(opts);
    this.now = opts.now ?? Date.now;
  }

  /** Binds the SAP port (shared with other listeners) and joins the group; throws if it cannot. */
  async open(): Promise<void> {
    const group = this.opts.group ?? SAP_GROUP;
    const conn = Deno.listenDatagram({
      transport: "udp",
      hostname: group,
      port: this.opts.port ?? SAP_PORT,
      reuseAddress: true,
    });
    try {
      await conn.joinMulticastV4(group, this.opts.interfaceAddress ?? "0.0.0.0");
    } catch (e) {
      conn.close();
      throw e;
    }
    this.conn = conn;
    this.loop = this.receive(conn);
  }

  private async receive(conn: Deno.DatagramConn): Promise<void> {
    const buf = new Uint8Array(65536);
    while (!this.closed) {
      let data: Uint8Array;
      try {
        [data] = await conn.receive(buf);
      } catch (e) {
        if (!this.closed) this.opts.onError?.(e as Error);
        return;
      }
      this.directory.handle(data, this.now());
    }
  }

  sessions(): SapSession[] {
    return this.directory.list(this.now());
  }

  find(wanted: string): SapSession[] {
    return this.directory.find(wanted, this.now());
  }

  async close(): Promise<void> {
    this.closed = true;
    try {
      this.conn?.close();
    } catch { /* already closed */ }
    this.conn = null;
    await this.loop;
  }
}
