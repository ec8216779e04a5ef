/**
 * The optional HTTPS listener (admin setting `https`, off by default): a
 * second `Deno.serve` on the HTTPS port with the box's own page certificate,
 * serving the same app as plain HTTP (listener page, /ws, admin, /health).
 *
 * `apply()` brings the listener in line with the stored setting at run time
 * (the server calls it on every configuration change; the admin route awaits
 * it): on → open the certificates, listen, renew hourly; off → stop
 * listening; another port → listen there, then stop the old one.
 *
 * When the page certificate is renewed (30 days before it expires) the
 * listener is swapped without refusing connections: the new one binds the
 * same port with SO_REUSEPORT (Linux), then the old one shuts down
 * gracefully. Deno's shutdown closes WebSockets on the old listener (code
 * 1001), so while any client is connected (`busy`) the swap waits for an
 * idle moment, re-checked every minute — at most until the served
 * certificate has 2 days left. A restart also picks up the renewed file.
 */
import type { CertInfo, HttpsStatus } from "./https_status.ts";
import type { HttpsConfig } from "../config/types.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import {
  certificateNames,
  type CertMaterial,
  type CertNames,
  formatFingerprint,
  TlsCertificates,
} from "./certificates.ts";

/**
 * The kernel setting that makes the swap lossless: with it, connections queued
 * on the closing listener move to the new one (SO_REUSEPORT group) instead of
 * being reset. install.sh sets it; null where it cannot be read.
 */
function readMigrateReq(): string | null {
  try {
    return Deno.readTextFileSync("/proc/sys/net/ipv4/tcp_migrate_req").trim();
  } catch {
    return null;
  }
}

// What the admin page and `ctx.https.status()` report: the admin API's types.
export type { CertInfo, HttpsStatus };

/** The HTTPS state as the rest of the server sees it (`ctx.https`). */
export interface HttpsControl {
  /** The box's certificates while the HTTPS listener is up, else null (WebTransport uses `transport()`). */
  readonly tls: TlsCertificates | null;
  status(): HttpsStatus;
  /** Brings the listener in line with the stored setting; resolves when done. */
  apply(): Promise<HttpsStatus>;
  /** Called after HTTPS turned on or off, moved port, or swapped its certificate. */
  onChange(cb: (s: HttpsStatus) => void): () => void;
}

export interface HttpsServiceOptions {
  /** The stored setting (read on every `apply()`). */
  settings: () => HttpsConfig;
  handler: Deno.ServeHandler<Deno.NetAddr>;
  /** Bind address, as for plain HTTP. */
  hostname: string;
  /** Certificate directory, `<dataDir>/tls`. */
  dir: string;
  clock: Clock;
  log: Logger;
  /** Names for new certificates (tests). */
  names?: () => CertNames;
  /** How often certificates are checked for renewal (default hourly). */
  renewIntervalMs?: number;
  /** Whether clients are connected; a renewed page certificate then waits (default: never busy). */
  busy?: () => boolean;
}

const RENEW_INTERVAL_MS = 3_600_000;
/** How often a deferred certificate swap looks for an idle moment. */
const PENDING_CHECK_MS = 60_000;
/** A deferred swap happens regardless once the served certificate has this little left. */
const FORCE_SWAP_BEFORE_MS = 2 * 86_400_000;
/** How long a stopped listener may take to finish its requests before `close()` stops waiting. */
const DRAIN_WAIT_MS = 3000;

export function certInfo(m: CertMaterial): CertInfo {
  const names = certificateNames(m.certPem);
  return {
    sha256: formatFingerprint(m.sha256),
    not_before: m.notBefore.toISOString(),
    not_after: m.notAfter.toISOString(),
    dns_names: names.dns,
    ip_addresses: names.ips,
  };
}

function describeListenError(e: unknown, port: number): string {
  if (e instanceof Deno.errors.AddrInUse) {
    return `port ${port} is already in use by another program`;
  }
  if (e instanceof Deno.errors.PermissionDenied) return `no permission to listen on port ${port}`;
  return `could not listen on port ${port}: ${(e as Error).message}`;
}

export class HttpsService implements HttpsControl {
  private server: Deno.HttpServer<Deno.NetAddr> | null = null;
  private boundPort: number | null = null;
  private certs: TlsCertificates | null = null;
  private offPageRotate: (() => void) | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** The page certificate the listener serves (lags `certs.page()` while a swap is deferred). */
  private served: CertMaterial | null = null;
  private pending: CertMaterial | null = null;
  private pendingTimer: ReturnType<typeof setInterval> | null = null;
  private error: string | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private draining = new Set<Promise<void>>();
  private listeners = new Set<(s: HttpsStatus) => void>();
  private closed = false;

  constructor(private readonly opts: HttpsServiceOptions) {}

  /** The certificates while HTTPS is on, else null. */
  get tls(): TlsCertificates | null {
    return this.server ? this.certs : null;
  }

  /** The port actually listened on, or null. */
  get listeningPort(): number | null {
    return this.server ? this.boundPort : null;
  }

  status(): HttpsStatus {
    const s = this.opts.settings();
    return {
      enabled: s.enabled,
      port: s.port,
      listening: this.server !== null,
      listening_port: this.server ? this.boundPort : null,
      error: s.enabled ? this.error : null,
      page_certificate: this.served
        ? certInfo(this.served)
        : this.certs
        ? certInfo(this.certs.page())
        : null,
      pending_certificate: this.server && this.pending ? certInfo(this.pending) : null,
    };
  }

  onChange(cb: (s: HttpsStatus) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  apply(): Promise<HttpsStatus> {
    const run = this.queue.then(() => this.reconcile()).then(() => this.status());
    this.queue = run.catch(() => {});
    return run;
  }

  private async reconcile(): Promise<void> {
    if (this.closed) return;
    const want = this.opts.settings();
    const before = JSON.stringify([this.boundPort, this.server !== null, this.error]);
    if (!want.enabled) {
      if (this.server) {
        this.stopListening();
        this.opts.log.info("https stopped");
      }
      this.error = null;
    } else {
      try {
        const certs = await this.openCerts();
        if (this.closed) return;
        await certs.renewDue();
        if (!this.server || this.boundPort !== want.port) {
          const next = this.listen(want.port, certs.page());
          this.stopListening();
          this.server = next;
          this.boundPort = want.port;
          this.served = certs.page();
          this.pending = null;
          this.startTimer();
          this.opts.log.info("https listening", {
            url: `https://${this.opts.hostname}:${want.port}/`,
            sha256: formatFingerprint(certs.page().sha256),
          });
          if (readMigrateReq() === "0") {
            this.opts.log.warn(
              "net.ipv4.tcp_migrate_req is 0: a connection arriving during a certificate swap " +
                "may be reset (install.sh sets it to 1)",
            );
          }
        }
        this.error = null;
        this.trySwapPending();
      } catch (e) {
        this.error = e instanceof Deno.errors.AddrInUse || e instanceof Deno.errors.PermissionDenied
          ? describeListenError(e, want.port)
          : `HTTPS could not start: ${(e as Error).message}`;
        if (this.server) this.error += `; still listening on port ${this.boundPort}`;
        this.opts.log.error("https could not start", { port: want.port, error: this.error });
      }
    }
    if (JSON.stringify([this.boundPort, this.server !== null, this.error]) !== before) {
      this.notify();
    }
  }

  private async openCerts(): Promise<TlsCertificates> {
    if (this.certs) return this.certs;
    const certs = await TlsCertificates.open({
      dir: this.opts.dir,
      clock: this.opts.clock,
      log: this.opts.log,
      ...(this.opts.names ? { names: this.opts.names } : {}),
    });
    this.certs = certs;
    this.offPageRotate = certs.onPageRotate((m) => this.onPageRenewed(m));
    return certs;
  }

  private listen(port: number, m: CertMaterial): Deno.HttpServer<Deno.NetAddr> {
    return Deno.serve({
      port,
      hostname: this.opts.hostname,
      cert: m.certPem,
      key: m.keyPem,
      // Lets the renewed certificate's listener bind next to the old one.
      reusePort: true,
      onListen: () => {},
    }, this.opts.handler);
  }

  /** A renewed page certificate: swap now when idle (or nearly expired), else when idle later. */
  private onPageRenewed(m: CertMaterial): void {
    if (!this.server || this.closed) return;
    this.pending = m;
    if (!this.trySwapPending()) {
      this.opts.log.info("https certificate renewed; waiting for no client to be connected", {
        sha256: formatFingerprint(m.sha256),
      });
      this.pendingTimer ??= setInterval(() => this.trySwapPending(), PENDING_CHECK_MS);
      this.notify();
    }
  }

  /** Swaps in the pending certificate if the time is right; true when none is left pending. */
  private trySwapPending(): boolean {
    const m = this.pending;
    if (!m || !this.server) return this.clearPending();
    const servedLeft = (this.served?.notAfter.getTime() ?? 0) - this.opts.clock.now();
    if ((this.opts.busy?.() ?? false) && servedLeft > FORCE_SWAP_BEFORE_MS) return false;
    if (this.swap(m)) return this.clearPending();
    this.pendingTimer ??= setInterval(() => this.trySwapPending(), PENDING_CHECK_MS);
    return false;
  }

  private clearPending(): true {
    this.pending = null;
    if (this.pendingTimer !== null) clearInterval(this.pendingTimer);
    this.pendingTimer = null;
    return true;
  }

  /** New listener on the same port first, then drain the old one; false when that failed. */
  private swap(m: CertMaterial): boolean {
    if (!this.server || this.boundPort === null || this.closed) return true;
    let next: Deno.HttpServer<Deno.NetAddr>;
    try {
      next = this.listen(this.boundPort, m);
    } catch (e) {
      // The old listener keeps serving the old (still valid) certificate; retried every minute.
      this.opts.log.error("https certificate swap failed; still serving the previous certificate", {
        error: e as Error,
      });
      return false;
    }
    const old = this.server;
    this.server = next;
    this.served = m;
    this.drain(old);
    this.opts.log.info("https certificate swapped", { sha256: formatFingerprint(m.sha256) });
    this.notify();
    return true;
  }

  private stopListening(): void {
    if (this.server) this.drain(this.server);
    this.server = null;
    this.boundPort = null;
    this.served = null;
    this.clearPending();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private drain(server: Deno.HttpServer<Deno.NetAddr>): void {
    const p = server.shutdown().catch((e) => {
      this.opts.log.warn("https listener shutdown failed", { error: e as Error });
    });
    this.draining.add(p);
    p.finally(() => this.draining.delete(p));
  }

  private startTimer(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      this.certs?.renewDue().catch((e) =>
        this.opts.log.error("tls certificate renewal failed", { error: e as Error })
      );
    }, this.opts.renewIntervalMs ?? RENEW_INTERVAL_MS);
  }

  private notify(): void {
    const s = this.status();
    for (const cb of [...this.listeners]) {
      try {
        cb(s);
      } catch (e) {
        this.opts.log.error("https change listener failed", { error: e as Error });
      }
    }
  }

  /** Stops listening (waiting up to 3 s for open requests) and drops the certificates' subscribers. */
  async close(): Promise<void> {
    await this.queue;
    this.closed = true;
    this.stopListening();
    this.offPageRotate?.();
    this.certs?.close();
    this.listeners.clear();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all([...this.draining]),
      new Promise((resolve) => (timer = setTimeout(resolve, DRAIN_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }
}
