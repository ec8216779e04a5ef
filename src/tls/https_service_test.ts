import assert from "node:assert/strict";
import type { HttpsConfig } from "../config/types.ts";
import { ManualClock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { formatFingerprint, type TlsCertificates } from "./certificates.ts";
import { HttpsService, type HttpsStatus } from "./https_service.ts";
import { freePort } from "../../tests/helpers/server.ts";

const DAY_MS = 86_400_000;
const NAMES = { dns: ["localhost"], ips: ["127.0.0.1"] };
const quiet: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => quiet,
};

/** GET over HTTPS with a client that trusts only `certPem`; a fresh connection each time. */
async function get(port: number, certPem: string, path = "/health"): Promise<string> {
  const client = Deno.createHttpClient({ caCerts: [certPem] });
  try {
    const res = await fetch(`https://127.0.0.1:${port}${path}`, { client });
    return await res.text();
  } finally {
    client.close();
  }
}

interface Fixture {
  svc: HttpsService;
  setting: HttpsConfig;
  clock: ManualClock;
  tls: () => TlsCertificates | null;
  changes: HttpsStatus[];
  /** Resolves the open /slow response. */
  release: () => void;
  done(): Promise<void>;
}

/** `startMs`: the certificate clock at the start (the TLS client in `get` uses the real time). */
async function fixture(startMs = Date.now(), busy?: () => boolean): Promise<Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "m32-https-" });
  const setting: HttpsConfig = { enabled: false, port: freePort() };
  const clock = new ManualClock(startMs);
  let release = () => {};
  const slow = new Promise<void>((resolve) => (release = resolve));
  const svc = new HttpsService({
    settings: () => ({ ...setting }),
    handler: async (req) => {
      if (new URL(req.url).pathname === "/slow") {
        await slow;
        return new Response("slow done");
      }
      return new Response("ok");
    },
    hostname: "127.0.0.1",
    dir: `${dir}/tls`,
    clock,
    log: quiet,
    names: () => NAMES,
    busy,
  });
  const changes: HttpsStatus[] = [];
  svc.onChange((s) => changes.push(s));
  return {
    svc,
    setting,
    clock,
    tls: () => svc.tls,
    changes,
    release: () => release(),
    async done() {
      release();
      await svc.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("off by default: nothing listens and no certificate is made", async () => {
  const f = await fixture();
  try {
    const st = await f.svc.apply();
    assert.deepEqual(st, {
      enabled: false,
      port: f.setting.port,
      listening: false,
      listening_port: null,
      error: null,
      page_certificate: null,
      pending_certificate: null,
    });
    assert.equal(f.tls(), null);
    await assert.rejects(() => Deno.connect({ hostname: "127.0.0.1", port: f.setting.port }));
  } finally {
    await f.done();
  }
});

Deno.test("turning HTTPS on serves with the page certificate; off stops listening", async () => {
  const f = await fixture();
  try {
    f.setting.enabled = true;
    const st = await f.svc.apply();
    assert.equal(st.listening, true);
    assert.equal(st.error, null);
    const tls = f.tls();
    assert.ok(tls, "the certificates are there while HTTPS is on");
    assert.equal(st.page_certificate!.sha256, formatFingerprint(tls.page().sha256));
    assert.deepEqual(st.page_certificate!.ip_addresses, ["127.0.0.1"]);
    assert.equal(await get(f.setting.port, tls.page().certPem), "ok");
    // A client that does not trust the box's certificate is refused by TLS.
    await assert.rejects(() => fetch(`https://127.0.0.1:${f.setting.port}/health`));
    assert.equal(f.changes.at(-1)?.listening, true);

    f.setting.enabled = false;
    const off = await f.svc.apply();
    assert.equal(off.listening, false);
    assert.equal(f.tls(), null);
    await assert.rejects(() => get(f.setting.port, tls.page().certPem));
    assert.equal(f.changes.at(-1)?.listening, false);

    // On again: the same (stable) certificate.
    f.setting.enabled = true;
    await f.svc.apply();
    assert.equal(formatFingerprint(f.tls()!.page().sha256), st.page_certificate!.sha256);
    assert.equal(await get(f.setting.port, tls.page().certPem), "ok");
  } finally {
    await f.done();
  }
});

Deno.test("a new port moves the listener; a taken port is reported, not thrown", async () => {
  const f = await fixture();
  const blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    f.setting.enabled = true;
    await f.svc.apply();
    const first = f.setting.port;
    const pem = f.tls()!.page().certPem;
    f.setting.port = freePort();
    assert.equal((await f.svc.apply()).listening, true);
    assert.equal(await get(f.setting.port, pem), "ok");
    await assert.rejects(() => get(first, pem));

    const moved = f.setting.port;
    f.setting.port = (blocker.addr as Deno.NetAddr).port;
    const st = await f.svc.apply();
    assert.match(st.error!, /already in use/);
    assert.match(st.error!, new RegExp(`still listening on port ${moved}`));
    assert.equal(st.listening_port, moved);
    assert.equal(await get(moved, pem), "ok");
  } finally {
    blocker.close();
    await f.done();
  }
});

/** The kernel setting install.sh (and .ci/setup) makes: without it a swap may reset a connection. */
function assertMigrateReq(): void {
  const v = Deno.readTextFileSync("/proc/sys/net/ipv4/tcp_migrate_req").trim();
  assert.equal(v, "1", "net.ipv4.tcp_migrate_req must be 1 (run `bash .ci/setup test`)");
}

Deno.test("a renewed page certificate swaps the listener without dropping requests", async () => {
  assertMigrateReq();
  // Made 340 days ago, so the renewal due now yields a certificate valid for the real client.
  const f = await fixture(Date.now() - 340 * DAY_MS);
  try {
    f.setting.enabled = true;
    await f.svc.apply();
    const tls = f.tls()!;
    const old = tls.page();
    const port = f.setting.port;
    // A request in flight on the old listener.
    const oldClient = Deno.createHttpClient({ caCerts: [old.certPem] });
    const inFlight = fetch(`https://127.0.0.1:${port}/slow`, { client: oldClient }).then((r) =>
      r.text()
    );
    await new Promise((r) => setTimeout(r, 50));

    f.clock.set(Date.now());
    assert.ok(old.notAfter.getTime() - Date.now() < 30 * DAY_MS);
    const before = f.changes.length;
    await tls.renewDue();
    const fresh = tls.page();
    assert.notEqual(formatFingerprint(fresh.sha256), formatFingerprint(old.sha256));
    assert.ok(f.changes.length > before, "the swap is announced");
    assert.equal(f.svc.status().page_certificate!.sha256, formatFingerprint(fresh.sha256));

    // New connections get the new certificate, on the same port, straight away.
    for (let i = 0; i < 5; i++) assert.equal(await get(port, fresh.certPem), "ok");
    await assert.rejects(() => get(port, old.certPem));
    // The request on the old listener still finishes.
    f.release();
    assert.equal(await inFlight, "slow done");
    oldClient.close();
  } finally {
    await f.done();
  }
});

Deno.test("while clients are connected a renewed certificate waits, unless the old one nearly expired", async () => {
  assertMigrateReq();
  let busy = true;
  const f = await fixture(Date.now() - 340 * DAY_MS, () => busy);
  try {
    f.setting.enabled = true;
    await f.svc.apply();
    const tls = f.tls()!;
    const old = tls.page();
    f.clock.set(Date.now());
    await tls.renewDue();
    const fresh = tls.page();
    let st = f.svc.status();
    assert.equal(st.page_certificate!.sha256, formatFingerprint(old.sha256));
    assert.equal(st.pending_certificate!.sha256, formatFingerprint(fresh.sha256));
    assert.equal(await get(f.setting.port, old.certPem), "ok");
    await f.svc.apply();
    assert.equal(f.svc.status().page_certificate!.sha256, formatFingerprint(old.sha256));

    busy = false;
    st = await f.svc.apply();
    assert.equal(st.page_certificate!.sha256, formatFingerprint(fresh.sha256));
    assert.equal(st.pending_certificate, null);
    assert.equal(await get(f.setting.port, fresh.certPem), "ok");

    // Busy, but the served certificate has under 2 days left: swapped at once.
    busy = true;
    f.clock.set(fresh.notAfter.getTime() - DAY_MS);
    await tls.renewDue();
    st = f.svc.status();
    assert.equal(st.pending_certificate, null);
    assert.equal(st.page_certificate!.sha256, formatFingerprint(tls.page().sha256));
    assert.notEqual(st.page_certificate!.sha256, formatFingerprint(fresh.sha256));
  } finally {
    await f.done();
  }
});
