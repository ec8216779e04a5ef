import assert from "node:assert/strict";
import { ManualClock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import {
  BACKDATE_MS,
  CERT_POLICY,
  certificateNames,
  type CertMaterial,
  generateCertificate,
  parseCertificate,
  TlsCertificates,
  transportCertHash,
} from "./certificates.ts";

const DAY_MS = 86_400_000;
const NAMES = {
  dns: ["m32-server.local", "stagebox", "localhost"],
  ips: ["192.168.1.20", "127.0.0.1"],
};
/** Chromium's serverCertificateHashes limit. */
const CHROMIUM_MAX_MS = 14 * DAY_MS;

function memLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log: Logger = {
    debug: (m) => lines.push(`debug ${m}`),
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
    child: () => log,
  };
  return { log, lines };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "m32-tls-" });
  try {
    await fn(`${dir}/tls`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("both certificates are valid from just before now for their policy's length", async () => {
  const now = 1_800_000_000_000;
  for (const kind of ["page", "transport"] as const) {
    const m = await generateCertificate(kind, now, NAMES);
    assert.ok(m.notBefore.getTime() <= now - BACKDATE_MS);
    assert.ok(m.notBefore.getTime() > now - BACKDATE_MS - 1000);
    assert.equal(m.notAfter.getTime() - m.notBefore.getTime(), CERT_POLICY[kind].validityMs);
  }
  const t = await generateCertificate("transport", now, NAMES);
  assert.ok(t.notAfter.getTime() - t.notBefore.getTime() <= CHROMIUM_MAX_MS);
  const p = await generateCertificate("page", now, NAMES);
  assert.ok(p.notAfter.getTime() - now > 360 * DAY_MS);
});

Deno.test("a certificate names the box's hosts and addresses and matches its P-256 key", async () => {
  const m = await generateCertificate("page", Date.now(), NAMES);
  assert.deepEqual(certificateNames(m.certPem), NAMES);
  assert.match(m.certPem, /^-----BEGIN CERTIFICATE-----\n/);
  assert.match(m.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  const parsed = await parseCertificate(m.certPem, m.keyPem);
  assert.equal(hex(parsed.sha256), hex(m.sha256));
  assert.equal(m.sha256.length, 32);
  // The digest is over the DER bytes.
  const der = Uint8Array.from(
    atob(m.certPem.replace(/-----[A-Z ]+-----|\s/g, "")),
    (c) => c.charCodeAt(0),
  );
  assert.equal(hex(new Uint8Array(await crypto.subtle.digest("SHA-256", der))), hex(m.sha256));
  const other = await generateCertificate("page", Date.now(), NAMES);
  await assert.rejects(() => parseCertificate(m.certPem, other.keyPem), /does not belong/);
});

Deno.test("reopening the directory keeps the same certificates; the key file is 0600", async () => {
  await withDir(async (dir) => {
    const clock = new ManualClock(Date.now());
    const { log } = memLog();
    const a = await TlsCertificates.open({ dir, clock, log, names: () => NAMES });
    clock.advance(DAY_MS);
    const b = await TlsCertificates.open({ dir, clock, log, names: () => NAMES });
    assert.equal(hex(b.page().sha256), hex(a.page().sha256));
    assert.equal(hex(b.transport().sha256), hex(a.transport().sha256));
    assert.notEqual(hex(a.page().sha256), hex(a.transport().sha256));
    assert.equal((await Deno.stat(`${dir}/page.key.pem`)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${dir}/transport.key.pem`)).mode! & 0o777, 0o600);
    const leftovers = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
      n.includes(".tmp")
    );
    assert.deepEqual(leftovers, []);
    a.close();
    b.close();
  });
});

Deno.test("renewDue rotates the transport certificate before 4 days remain, the page one before 30", async () => {
  await withDir(async (dir) => {
    const clock = new ManualClock(Date.now());
    const tls = await TlsCertificates.open({ dir, clock, log: memLog().log, names: () => NAMES });
    const page0 = tls.page();
    const t0 = tls.transport();
    const seenT: CertMaterial[] = [];
    const seenP: CertMaterial[] = [];
    tls.onTransportRotate((m) => seenT.push(m));
    const offP = tls.onPageRotate((m) => seenP.push(m));

    clock.advance(8 * DAY_MS); // 13 − 8 − 1 h backdate ≈ 4 days 23 h left: not due
    await tls.renewDue();
    assert.equal(seenT.length, 0);

    clock.advance(DAY_MS); // < 4 days left
    await tls.renewDue();
    assert.equal(seenT.length, 1);
    assert.notEqual(hex(seenT[0].sha256), hex(t0.sha256));
    assert.equal(hex(tls.transport().sha256), hex(seenT[0].sha256));
    assert.ok(seenT[0].notBefore.getTime() > t0.notBefore.getTime());
    assert.equal(seenP.length, 0);
    assert.equal(tls.page(), page0);

    // The renewed one is on disk: a restart loads it.
    const again = await TlsCertificates.open({ dir, clock, log: memLog().log, names: () => NAMES });
    assert.equal(hex(again.transport().sha256), hex(seenT[0].sha256));
    again.close();

    clock.set(page0.notAfter.getTime() - 31 * DAY_MS);
    await tls.renewDue();
    assert.equal(seenP.length, 0);
    clock.set(page0.notAfter.getTime() - 29 * DAY_MS);
    await tls.renewDue();
    assert.equal(seenP.length, 1);
    assert.notEqual(hex(tls.page().sha256), hex(page0.sha256));
    offP();
    clock.advance(400 * DAY_MS);
    await tls.renewDue();
    assert.equal(seenP.length, 1, "unsubscribed listener is not called");
    assert.ok(seenT.length >= 2);
    tls.close();
  });
});

Deno.test("a certificate from the future (clock set back) is renewed", async () => {
  await withDir(async (dir) => {
    const clock = new ManualClock(Date.now());
    const a = await TlsCertificates.open({ dir, clock, log: memLog().log, names: () => NAMES });
    clock.advance(-10 * DAY_MS);
    const b = await TlsCertificates.open({ dir, clock, log: memLog().log, names: () => NAMES });
    assert.notEqual(hex(b.page().sha256), hex(a.page().sha256));
    assert.ok(b.page().notBefore.getTime() <= clock.now());
  });
});

Deno.test("a corrupted, mismatched or half-missing pair is regenerated with a warning", async () => {
  await withDir(async (dir) => {
    const clock = new ManualClock(Date.now());
    const first = memLog();
    const a = await TlsCertificates.open({ dir, clock, log: first.log, names: () => NAMES });
    assert.deepEqual(first.lines.filter((l) => l.startsWith("warn")), [], "a first start is quiet");

    await Deno.writeTextFile(`${dir}/page.cert.pem`, "garbage");
    await Deno.remove(`${dir}/transport.key.pem`);
    const second = memLog();
    const b = await TlsCertificates.open({ dir, clock, log: second.log, names: () => NAMES });
    assert.equal(second.lines.filter((l) => l.startsWith("warn")).length, 2);
    assert.notEqual(hex(b.page().sha256), hex(a.page().sha256));
    assert.notEqual(hex(b.transport().sha256), hex(a.transport().sha256));
    await parseCertificate(
      await Deno.readTextFile(`${dir}/page.cert.pem`),
      await Deno.readTextFile(`${dir}/page.key.pem`),
    );

    // A key from another pair.
    await Deno.copyFile(`${dir}/transport.key.pem`, `${dir}/page.key.pem`);
    const third = memLog();
    const c = await TlsCertificates.open({ dir, clock, log: third.log, names: () => NAMES });
    assert.equal(third.lines.filter((l) => l.startsWith("warn")).length, 1);
    assert.notEqual(hex(c.page().sha256), hex(b.page().sha256));
  });
});

Deno.test("transportCertHash gives the page base64 of the DER SHA-256", async () => {
  await withDir(async (dir) => {
    const clock = new ManualClock(Date.now());
    const tls = await TlsCertificates.open({ dir, clock, log: memLog().log, names: () => NAMES });
    const h = transportCertHash(tls);
    assert.equal(h.algorithm, "sha-256");
    const bytes = Uint8Array.from(atob(h.value), (c) => c.charCodeAt(0));
    assert.equal(hex(bytes), hex(tls.transport().sha256));
    assert.match(h.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.equal(h.not_after, tls.transport().notAfter.toISOString());
  });
});

Deno.test("Deno's TLS stack serves the page certificate and a client trusting it connects", async () => {
  const m = await generateCertificate("page", Date.now(), NAMES);
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", cert: m.certPem, key: m.keyPem, onListen: () => {} },
    () => new Response("ok"),
  );
  const client = Deno.createHttpClient({ caCerts: [m.certPem] });
  try {
    const res = await fetch(`https://127.0.0.1:${server.addr.port}/`, { client });
    assert.equal(await res.text(), "ok");
    const res2 = await fetch(`https://localhost:${server.addr.port}/`, { client });
    assert.equal(await res2.text(), "ok");
  } finally {
    client.close();
    await server.shutdown();
  }
});
