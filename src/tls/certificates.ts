/**
 * The appliance's own TLS certificates, made with WebCrypto and
 * @peculiar/x509, kept as PEM files under `<dataDir>/tls` and renewed by
 * `renewDue()` (the server calls it hourly; tests call it with a fake clock).
 *
 * Two certificates, both ECDSA P-256, self-signed, with the box's names
 * (m32-server.local, its hostname, localhost) and IPv4 addresses as
 * SubjectAltName:
 *
 * - the page certificate, for the HTTPS listener page: about one year and
 *   kept stable, so a phone's one-time certificate warning stays accepted;
 *   renewed 30 days before it expires;
 * - the transport certificate, for WebTransport: Chromium accepts a
 *   certificate by hash (`serverCertificateHashes`) only when its total
 *   validity is at most 14 days, so it lives 13 days and is renewed when
 *   fewer than 4 remain.
 *
 * Files: `page.cert.pem` / `page.key.pem`, `transport.cert.pem` /
 * `transport.key.pem`; keys are mode 0600, every file is written to a
 * temporary name and renamed. A missing, unreadable or mismatched pair is
 * regenerated with a warning.
 */
import * as x509 from "@peculiar/x509";
import type { Clock } from "../util/clock.ts";
import { getLogger, type Logger } from "../util/log.ts";
import { lanAddresses } from "../net/local_address.ts";

x509.cryptoProvider.set(crypto);

export interface CertMaterial {
  certPem: string;
  keyPem: string;
  /** SHA-256 of the DER certificate. */
  sha256: Uint8Array;
  notBefore: Date;
  notAfter: Date;
}

/** The names a certificate is made for. */
export interface CertNames {
  dns: string[];
  ips: string[];
}

export interface TlsCertificatesOptions {
  /** Where the PEM files live, e.g. `<dataDir>/tls` (created when missing). */
  dir: string;
  clock: Clock;
  log?: Logger;
  /** Names for new certificates (default: `defaultCertNames()`). */
  names?: () => CertNames;
}

export type CertKind = "page" | "transport";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Validity and renewal rules for each certificate. */
export const CERT_POLICY: Record<CertKind, { validityMs: number; renewBeforeMs: number }> = {
  page: { validityMs: 365 * DAY_MS, renewBeforeMs: 30 * DAY_MS },
  transport: { validityMs: 13 * DAY_MS, renewBeforeMs: 4 * DAY_MS },
};

/** notBefore lies this far before "now", for phones whose clock runs a little behind. */
export const BACKDATE_MS = HOUR_MS;

/** The mDNS name install.sh gives the box. */
export const MDNS_NAME = "m32-server.local";

const EC_KEY: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const EC_SIGN: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };

/** The name phones find the box by: `<hostname>.local` (avahi), else m32-server.local. */
export function mdnsName(): string {
  try {
    const h = Deno.hostname().trim().toLowerCase();
    if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(h) && h !== "localhost") return `${h}.local`;
  } catch {
    // no hostname permission
  }
  return MDNS_NAME;
}

/** m32-server.local, this machine's hostname, localhost; its LAN IPv4s and 127.0.0.1. */
export function defaultCertNames(): CertNames {
  const dns = [MDNS_NAME];
  try {
    const h = Deno.hostname().trim().toLowerCase();
    if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(h)) {
      dns.push(h);
      if (!h.includes(".")) dns.push(`${h}.local`);
    }
  } catch {
    // no hostname permission or no name: the others still apply
  }
  dns.push("localhost");
  let ips: string[] = [];
  try {
    ips = lanAddresses();
  } catch {
    ips = [];
  }
  return { dns: [...new Set(dns)], ips: [...new Set([...ips, "127.0.0.1"])] };
}

/** "AB:CD:…" — how browsers show a certificate fingerprint. */
export function formatFingerprint(sha256: Uint8Array): string {
  return [...sha256].map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":");
}

/**
 * The transport certificate's hash in the shape the listener page passes to
 * `new WebTransport(url, { serverCertificateHashes: [{ algorithm, value }] })`
 * after base64-decoding `value`.
 */
export interface CertHashJson {
  algorithm: "sha-256";
  /** Base64 of the 32-byte SHA-256 of the DER certificate. */
  value: string;
  /** Hex with colons, for people. */
  fingerprint: string;
  not_before: string;
  not_after: string;
}

export function certHashJson(m: CertMaterial): CertHashJson {
  let bin = "";
  for (const b of m.sha256) bin += String.fromCharCode(b);
  return {
    algorithm: "sha-256",
    value: btoa(bin),
    fingerprint: formatFingerprint(m.sha256),
    not_before: m.notBefore.toISOString(),
    not_after: m.notAfter.toISOString(),
  };
}

/** The current transport certificate's hash, for the WebTransport page (`serverCertificateHashes`). */
export function transportCertHash(tls: TlsCertificates): CertHashJson {
  return certHashJson(tls.transport());
}

function toPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  const b64 = btoa(bin).replace(/.{1,64}/g, "$&\n");
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

function fromPem(pem: string, label: string): Uint8Array<ArrayBuffer> {
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`)
    .exec(pem);
  if (!m) throw new Error(`no ${label} block`);
  const bin = atob(m[1].replace(/\s+/g, ""));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function randomSerial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] &= 0x7f; // positive
  b[0] |= 0x01; // no leading zero byte
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

async function sha256(der: ArrayBuffer | Uint8Array): Promise<Uint8Array> {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
}

/** Makes a self-signed ECDSA P-256 certificate valid from `now - BACKDATE_MS` for `validityMs`. */
export async function generateCertificate(
  kind: CertKind,
  now: number,
  names: CertNames,
): Promise<CertMaterial> {
  const keys = await crypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"]);
  // X.509 times have whole seconds.
  const notBefore = new Date(Math.floor((now - BACKDATE_MS) / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + CERT_POLICY[kind].validityMs);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=m32-server ${kind}, O=m32-server`,
    notBefore,
    notAfter,
    signingAlgorithm: EC_SIGN,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.dns.map((value) => ({ type: "dns" as const, value })),
        ...names.ips.map((value) => ({ type: "ip" as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return {
    certPem: cert.toString("pem") + "\n",
    keyPem: toPem(pkcs8, "PRIVATE KEY"),
    sha256: await sha256(cert.rawData),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}

/** Parses a PEM pair and checks that the key belongs to the certificate; throws otherwise. */
export async function parseCertificate(certPem: string, keyPem: string): Promise<CertMaterial> {
  const der = fromPem(certPem, "CERTIFICATE");
  const cert = new x509.X509Certificate(der);
  const key = await crypto.subtle.importKey("pkcs8", fromPem(keyPem, "PRIVATE KEY"), EC_KEY, true, [
    "sign",
  ]);
  const priv = await crypto.subtle.exportKey("jwk", key);
  const pub = await crypto.subtle.exportKey("jwk", await cert.publicKey.export(EC_KEY, ["verify"]));
  if (priv.x !== pub.x || priv.y !== pub.y) {
    throw new Error("the private key does not belong to the certificate");
  }
  if (!(await cert.verify({ signatureOnly: true }))) {
    throw new Error("the certificate's self-signature does not verify");
  }
  return {
    certPem,
    keyPem,
    sha256: await sha256(der),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}

/** SubjectAltName entries of a PEM certificate (for tests and the admin page). */
export function certificateNames(certPem: string): CertNames {
  const cert = new x509.X509Certificate(fromPem(certPem, "CERTIFICATE"));
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const out: CertNames = { dns: [], ips: [] };
  for (const n of san?.names.items ?? []) {
    if (n.type === "dns") out.dns.push(n.value);
    if (n.type === "ip") out.ips.push(n.value);
  }
  return out;
}

/** True when `m` must be replaced at `now`: not yet valid, or too close to expiry. */
export function renewalDue(kind: CertKind, m: CertMaterial, now: number): boolean {
  return now < m.notBefore.getTime() ||
    m.notAfter.getTime() - now < CERT_POLICY[kind].renewBeforeMs;
}

/** Writes `data` to `path` through a temporary file and a rename, with `mode`. */
async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  try {
    await Deno.writeTextFile(tmp, data, { mode, createNew: true });
    await Deno.chmod(tmp, mode); // the umask may have narrowed it; never widened past `mode`
    const f = await Deno.open(tmp, { read: true });
    try {
      await f.sync();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

type Listener = (m: CertMaterial) => void;

export class TlsCertificates {
  private current: Record<CertKind, CertMaterial>;
  private listeners: Record<CertKind, Set<Listener>> = { page: new Set(), transport: new Set() };
  private busy: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly opts: Required<TlsCertificatesOptions>,
    page: CertMaterial,
    transport: CertMaterial,
  ) {
    this.current = { page, transport };
  }

  /** Loads both certificates from `dir`, making (and saving) any that is missing, broken or due. */
  static async open(opts: TlsCertificatesOptions): Promise<TlsCertificates> {
    const full: Required<TlsCertificatesOptions> = {
      log: getLogger("tls"),
      names: defaultCertNames,
      ...opts,
    };
    await Deno.mkdir(full.dir, { recursive: true, mode: 0o700 });
    const page = await loadOrCreate(full, "page");
    const transport = await loadOrCreate(full, "transport");
    return new TlsCertificates(full, page, transport);
  }

  /** The HTTPS page certificate (about a year, stable). */
  page(): CertMaterial {
    return this.current.page;
  }

  /** The WebTransport certificate (≤ 13 days, for `serverCertificateHashes`). */
  transport(): CertMaterial {
    return this.current.transport;
  }

  onPageRotate(cb: Listener): () => void {
    this.listeners.page.add(cb);
    return () => this.listeners.page.delete(cb);
  }

  onTransportRotate(cb: Listener): () => void {
    this.listeners.transport.add(cb);
    return () => this.listeners.transport.delete(cb);
  }

  /** Renews whichever certificate is due at `clock.now()`, saves it and tells the subscribers. */
  renewDue(): Promise<void> {
    const run = this.busy.then(() => this.renewNow());
    this.busy = run.catch(() => {});
    return run;
  }

  private async renewNow(): Promise<void> {
    if (this.closed) return;
    for (const kind of ["page", "transport"] as const) {
      const now = this.opts.clock.now();
      const old = this.current[kind];
      if (!renewalDue(kind, old, now)) continue;
      const next = await generateCertificate(kind, now, this.opts.names());
      await save(this.opts.dir, kind, next);
      if (this.closed) return;
      this.current[kind] = next;
      this.opts.log.info("tls certificate renewed", {
        kind,
        sha256: formatFingerprint(next.sha256),
        not_after: next.notAfter.toISOString(),
        previous_not_after: old.notAfter.toISOString(),
      });
      for (const cb of [...this.listeners[kind]]) {
        try {
          cb(next);
        } catch (e) {
          this.opts.log.error("tls rotation listener failed", { kind, error: e as Error });
        }
      }
    }
  }

  /** Drops every subscriber; later `renewDue()` calls do nothing. */
  close(): void {
    this.closed = true;
    this.listeners.page.clear();
    this.listeners.transport.clear();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

function paths(dir: string, kind: CertKind): { cert: string; key: string } {
  return { cert: `${dir}/${kind}.cert.pem`, key: `${dir}/${kind}.key.pem` };
}

async function save(dir: string, kind: CertKind, m: CertMaterial): Promise<void> {
  const p = paths(dir, kind);
  // Key first: a crash between the two renames leaves a mismatched pair, which the next start detects.
  await writeAtomic(p.key, m.keyPem, 0o600);
  await writeAtomic(p.cert, m.certPem, 0o644);
}

async function loadOrCreate(
  opts: Required<TlsCertificatesOptions>,
  kind: CertKind,
): Promise<CertMaterial> {
  const p = paths(opts.dir, kind);
  const now = opts.clock.now();
  let why: string;
  try {
    const m = await parseCertificate(
      await Deno.readTextFile(p.cert),
      await Deno.readTextFile(p.key),
    );
    if (!renewalDue(kind, m, now)) return m;
    why = `it expires ${m.notAfter.toISOString()} (or is not yet valid)`;
    opts.log.info("tls certificate due for renewal", { kind, not_after: m.notAfter.toISOString() });
  } catch (e) {
    const fresh = e instanceof Deno.errors.NotFound && !(await exists(p.cert)) &&
      !(await exists(p.key));
    why = fresh ? "none stored" : (e as Error).message;
    if (!fresh) {
      opts.log.warn("tls certificate unreadable; making a new one", { kind, error: e as Error });
    }
  }
  const m = await generateCertificate(kind, now, opts.names());
  await save(opts.dir, kind, m);
  opts.log.info("tls certificate created", {
    kind,
    reason: why,
    sha256: formatFingerprint(m.sha256),
    not_after: m.notAfter.toISOString(),
  });
  return m;
}
