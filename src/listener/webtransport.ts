/**
 * The WebTransport transport's server end (HTTPS only): a QUIC endpoint
 * (`Deno.QuicEndpoint` + `Deno.upgradeWebTransport`, unstable "net") that
 * accepts a browser's WebTransport session and carries the listener
 * session's RTP packets as unreliable datagrams, one RTP packet per datagram.
 *
 *   page                                       server
 *   GET /listener/webtransport            ──▶  {url, certificate_sha256, expires}
 *   WS /listen?transport=webtransport     ──▶  welcome (the session)
 *   {"type":"webtransport_connect"}       ──▶  a one-time token for this session
 *                                         ◀──  {"type":"webtransport_token","token":"…"}
 *   new WebTransport(url?token=…,
 *     {serverCertificateHashes})          ──▶  token → session (same IP), attachSender
 *                                         ◀──  RTP datagrams
 *
 * The certificate is the TLS module's short-lived ECDSA P-256 "transport"
 * certificate (≤ 14 days, so browsers accept it by hash without a CA). When
 * it rotates, the endpoint listens with the new one on the same UDP socket:
 * sessions already open keep theirs (it is still valid); a page that
 * reconnects fetches the new hash first.
 *
 * A token is 128 random bits, valid once, for TOKEN_TTL_MS, and only from the
 * address of the WebSocket that asked for it (audio goes only to the phone
 * that asked). Anything else the peer sends (streams, datagrams) is ignored.
 */
import type { CertMaterial } from "../tls/certificates.ts";
import type { PacketChannel } from "./channel_sender.ts";

/** The path of the WebTransport session URL. */
export const WEBTRANSPORT_PATH = "/listener/wt";
/**
 * RTP datagrams for a WebTransport session are built to fit this: QUIC
 * guarantees 1200-byte UDP payloads; the short header (≤ 1 + 20 + 4), AEAD
 * tag (16), DATAGRAM frame header (≤ 3) and the WebTransport session prefix
 * (1–2) leave ≥ 1154 bytes.
 */
export const WEBTRANSPORT_MAX_DATAGRAM_BYTES = 1150;
/**
 * quinn's BBR ("low-latency") instead of its default (CUBIC). A Wi-Fi delay
 * spike (stage-ap: 40–80 ms more for 20–60 ms) makes the packets sent in it
 * arrive after newer ones; QUIC (as we read it) declares them lost and CUBIC cuts its window,
 * so the datagrams after the spike queued in the server for seconds and the
 * page's jitter buffer, which covers the largest lateness of 8 s, rose by
 * 6–15 ms and came back down 6–13 s later. BBR does not take reordering for
 * congestion: the same spikes left the latency within 1–4 ms
 * (docs/loadtest/wifi/README.md, "QUIC congestion control").
 */
export const QUIC_CONGESTION_CONTROL = "low-latency";
/** How long a token may wait for its WebTransport session. */
export const TOKEN_TTL_MS = 30_000;
/** A session that does not finish the WebTransport handshake in time is dropped. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** The part of the TLS module (TlsCertificates) the endpoint needs. */
export interface TransportCertificates {
  transport(): CertMaterial;
  onTransportRotate(cb: (m: CertMaterial) => void): () => void;
}

/** A WebTransport session was bound to its token: stream into `channel` until `closed`. */
export interface BoundSession {
  channel: PacketChannel;
  /** Closes the WebTransport session (the listener session ended). */
  close(reason: string): void;
  /** Resolves when the WebTransport session is gone (the peer closed, or the endpoint restarted). */
  closed: Promise<string>;
}

interface PendingToken {
  ip: string;
  expires: number;
  bind(s: BoundSession): void;
}

export interface WebTransportInfo {
  url: string;
  port: number;
  /** Hex SHA-256 of the certificate's DER (for `serverCertificateHashes`). */
  certificate_sha256: string;
  /** When the certificate expires (ISO 8601); the page fetches a new hash after that. */
  expires: string;
  max_datagram_bytes: number;
}

export interface Log {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

/** "::ffff:10.0.0.5" → "10.0.0.5"; "::1" → "127.0.0.1" would be wrong, so only the mapped form. */
export function normalizeIp(addr: string): string {
  return addr.startsWith("::ffff:") ? addr.slice(7) : addr;
}

/** The part of Deno.QuicConn a datagram channel uses. */
export interface DatagramConn {
  sendDatagram(data: Uint8Array): Promise<void>;
}

/**
 * A datagram channel over a WebTransport session. The first datagram goes
 * through the session's `datagrams.writable`, which shows the bytes Deno puts
 * in front of each datagram on the QUIC connection (the HTTP/3 datagram's
 * session id); every later one is written to the connection directly,
 * prefix ‖ packet in one buffer: one promise and one copy a datagram instead
 * of a WritableStream write (three promises, a queue entry and two copies).
 */
export function datagramChannel(
  wt: Pick<WebTransport, "datagrams">,
  conn: DatagramConn,
  isOpen: () => boolean,
): PacketChannel & { readonly direct: boolean } {
  const writer = wt.datagrams.writable.getWriter();
  let pending = 0;
  let prefix: Uint8Array | null = null;
  /** The length of the first datagram given to the writable (the prefix is what comes before it). */
  let probe = -1;
  const send = conn.sendDatagram;
  conn.sendDatagram = function (this: DatagramConn, data: Uint8Array) {
    if (prefix === null && probe >= 0 && data.length >= probe) {
      prefix = data.slice(0, data.length - probe);
      conn.sendDatagram = send; // learnt
    }
    return send.call(this, data);
  };
  // Settled datagrams leave the count; no closure per datagram.
  const sizes: number[] = [];
  let head = 0;
  const settled = () => {
    pending -= sizes[head++];
    if (head === sizes.length) {
      sizes.length = 0;
      head = 0;
    } else if (head > 1024) {
      sizes.splice(0, head);
      head = 0;
    }
  };
  return {
    send(bytes) {
      const max = wt.datagrams.maxDatagramSize;
      if (bytes.length > max) {
        throw new RangeError(`datagram of ${bytes.length} bytes over the session's ${max}`);
      }
      pending += bytes.length;
      sizes.push(bytes.length);
      if (prefix !== null) {
        const d = new Uint8Array(prefix.length + bytes.length);
        d.set(prefix);
        d.set(bytes, prefix.length);
        send.call(conn, d).then(settled, settled);
        return;
      }
      if (probe < 0) probe = bytes.length; // the first the writable hands to the connection
      writer.write(bytes).then(settled, settled);
    },
    get bufferedAmount() {
      return pending;
    },
    get open() {
      return isOpen();
    },
    get direct() {
      return prefix !== null;
    },
  };
}

export interface WebTransportServerOptions {
  hostname: string;
  port: number;
  /**
   * The UDP port pages are told to connect to (`info().url`), when it is not
   * the bound one: a port forward in front of the box, or the Wi-Fi bench's
   * impairment relay (docs/wifi-relay.md). Default: the bound port.
   */
  publicPort?: number;
  certs: TransportCertificates;
  log: Log;
  now?: () => number;
}

/** The QUIC endpoint and the token table. */
export class WebTransportServer {
  private endpoint: Deno.QuicEndpoint | null = null;
  private listener: Deno.QuicListener | null = null;
  private cert: CertMaterial;
  private readonly tokens = new Map<string, PendingToken>();
  private readonly live = new Set<WebTransport>();
  private readonly unsubscribe: () => void;
  private closedFlag = false;
  private readonly now: () => number;
  /** The UDP port: the one asked for, then the one bound (a restart keeps it). */
  private udpPort: number;
  /** Sessions bound since start (tests, logs). */
  bound = 0;
  /** Connection attempts refused (bad path, token, address). */
  refused = 0;

  constructor(private readonly opts: WebTransportServerOptions) {
    this.now = opts.now ?? Date.now;
    this.udpPort = opts.port;
    this.cert = opts.certs.transport();
    this.listen();
    this.unsubscribe = opts.certs.onTransportRotate((m) => {
      if (this.closedFlag) return;
      this.cert = m;
      this.opts.log.info("webtransport certificate rotated: listening with the new one", {
        expires: m.notAfter.toISOString(),
      });
      // Same endpoint (same UDP socket), new listener: sessions already open keep the
      // certificate they were made with (still valid); new ones get the new one.
      try {
        this.listener?.stop();
      } catch { /* stopped */ }
      this.listen();
    });
  }

  get port(): number {
    return this.endpoint?.addr.port ?? 0;
  }

  /** The UDP port pages are told to connect to (the bound one unless `publicPort` is set). */
  get publicPort(): number {
    return this.opts.publicPort ?? this.port;
  }

  /** What the page needs to connect, for a page served as `hostname`. */
  info(hostname: string): WebTransportInfo {
    const host = hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname;
    const port = this.publicPort;
    return {
      url: `https://${host}:${port}${WEBTRANSPORT_PATH}`,
      port,
      certificate_sha256: hex(this.cert.sha256),
      expires: this.cert.notAfter.toISOString(),
      max_datagram_bytes: WEBTRANSPORT_MAX_DATAGRAM_BYTES,
    };
  }

  /**
   * A one-time token for the listener session whose WebSocket came from `ip`;
   * `bind` runs when a WebTransport session presents it. The listener socket
   * revokes a session's earlier tokens when it asks for a new one.
   */
  issueToken(ip: string, bind: (s: BoundSession) => void): string {
    this.expireTokens();
    const raw = crypto.getRandomValues(new Uint8Array(16));
    const token = hex(raw);
    this.tokens.set(token, { ip, expires: this.now() + TOKEN_TTL_MS, bind });
    return token;
  }

  /** Forgets the tokens of a session that ended (they are all `bind`s of it). */
  revoke(bind: (s: BoundSession) => void): void {
    for (const [t, p] of this.tokens) if (p.bind === bind) this.tokens.delete(t);
  }

  private expireTokens(): void {
    const now = this.now();
    for (const [t, p] of this.tokens) if (p.expires < now) this.tokens.delete(t);
  }

  private listen(): void {
    const endpoint = this.endpoint ?? new Deno.QuicEndpoint({
      hostname: this.opts.hostname,
      port: this.udpPort,
    });
    this.udpPort = endpoint.addr.port;
    const listener = endpoint.listen({
      cert: this.cert.certPem,
      key: this.cert.keyPem,
      alpnProtocols: ["h3"],
      keepAliveInterval: 2_000,
      maxIdleTimeout: 10_000,
      congestionControl: QUIC_CONGESTION_CONTROL,
    });
    this.endpoint = endpoint;
    this.listener = listener;
    this.opts.log.info("webtransport listening", {
      port: endpoint.addr.port,
      certificate_sha256: hex(this.cert.sha256),
    });
    void this.acceptLoop(listener);
  }

  private async acceptLoop(listener: Deno.QuicListener): Promise<void> {
    try {
      for await (const incoming of listener) {
        void this.handle(incoming).catch((e) => {
          this.refused++;
          this.opts.log.info("webtransport session failed", { error: (e as Error).message });
        });
      }
    } catch (e) {
      if (this.listener === listener) {
        this.opts.log.warn("webtransport listener stopped", { error: (e as Error).message });
      }
    }
  }

  private async handle(incoming: Deno.QuicIncoming): Promise<void> {
    // Not incoming.remoteAddr: in Deno 2.9 reading it invalidates the QuicIncoming.
    let ip = "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    let conn: Deno.QuicConn | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        conn?.close({ closeCode: 0, reason: "handshake timeout" });
        reject(new Error("handshake timeout"));
      }, HANDSHAKE_TIMEOUT_MS);
    });
    let wt: WebTransport & { url: string };
    try {
      wt = await Promise.race([
        (async () => {
          conn = await incoming.accept();
          ip = normalizeIp(conn.remoteAddr.hostname);
          const w = await Deno.upgradeWebTransport(conn);
          await w.ready;
          return w;
        })(),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
    let url: URL;
    try {
      url = new URL(wt.url);
    } catch {
      return this.refuse(wt, "bad url");
    }
    if (url.pathname !== WEBTRANSPORT_PATH) return this.refuse(wt, "unknown path");
    const token = url.searchParams.get("token") ?? "";
    this.expireTokens();
    const pending = this.tokens.get(token);
    if (!pending) return this.refuse(wt, "unknown or expired token");
    if (pending.ip !== ip) return this.refuse(wt, "token issued to another address");
    this.tokens.delete(token); // one use
    this.live.add(wt);
    let open = true;
    const closed = wt.closed.then(
      (info) => `closed (${info.closeCode ?? 0}${info.reason ? `: ${info.reason}` : ""})`,
      (e) => `failed (${(e as Error).message})`,
    ).finally(() => {
      open = false;
      this.live.delete(wt);
    });
    // Drain what the page might send so nothing queues; it has no meaning here.
    void wt.datagrams.readable.cancel().catch(() => {});
    void wt.incomingBidirectionalStreams.cancel().catch(() => {});
    void wt.incomingUnidirectionalStreams.cancel().catch(() => {});
    this.bound++;
    pending.bind({
      channel: datagramChannel(wt, conn!, () => open),
      close: (reason) => {
        open = false;
        try {
          wt.close({ closeCode: 0, reason: reason.slice(0, 100) });
        } catch { /* already closed */ }
      },
      closed,
    });
  }

  private refuse(wt: WebTransport, reason: string): void {
    this.refused++;
    this.opts.log.info("webtransport session refused", { reason });
    try {
      wt.close({ closeCode: 403, reason });
    } catch { /* gone */ }
  }

  private stopEndpoint(): void {
    const listener = this.listener;
    const endpoint = this.endpoint;
    this.listener = null;
    this.endpoint = null;
    for (const wt of this.live) {
      try {
        wt.close({ closeCode: 0, reason: "server closing" });
      } catch { /* gone */ }
    }
    this.live.clear();
    try {
      listener?.stop();
    } catch { /* stopped */ }
    try {
      endpoint?.close({ closeCode: 0, reason: "endpoint closed" });
    } catch { /* closed */ }
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.unsubscribe();
    this.tokens.clear();
    this.stopEndpoint();
  }
}

export interface WebTransportServiceOptions {
  /** Bind address (as for HTTP). */
  hostname: string;
  /** The certificates while HTTPS is on, else null (`ctx.https.tls`). */
  tls: () => TransportCertificates | null;
  /** The port the HTTPS listener is bound to, else null: the QUIC endpoint takes the same UDP port. */
  httpsPort: () => number | null;
  /** The UDP port pages are told (WebTransportServerOptions.publicPort); default the bound one. */
  publicPort?: number;
  log: Log;
}

/**
 * Follows the HTTPS listener: call `sync()` whenever it may have changed
 * (turned on or off, moved port); the endpoint runs on UDP `httpsPort` while
 * HTTPS is on. A port that cannot be bound is logged and WebTransport stays
 * off (pages use the DataChannel).
 */
export class WebTransportService {
  private server: WebTransportServer | null = null;
  private key = "";
  private tls: TransportCertificates | null = null;

  constructor(private readonly opts: WebTransportServiceOptions) {}

  current(): WebTransportServer | null {
    return this.server;
  }

  sync(): void {
    const tls = this.opts.tls();
    const port = this.opts.httpsPort();
    const key = tls && port !== null ? String(port) : "";
    if (key === this.key && tls === this.tls && (this.server !== null || key === "")) return;
    this.server?.close();
    this.server = null;
    this.key = key;
    this.tls = tls;
    if (!tls || port === null) return;
    try {
      this.server = new WebTransportServer({
        hostname: this.opts.hostname,
        port,
        publicPort: this.opts.publicPort,
        certs: tls,
        log: this.opts.log,
      });
    } catch (e) {
      this.opts.log.warn("webtransport could not start", {
        port,
        error: (e as Error).message,
      });
    }
  }

  close(): void {
    this.server?.close();
    this.server = null;
    this.key = "";
  }
}
