/**
 * The optional HTTPS listener page (issue #8) against a real server: the
 * admin setting, the listener starting and stopping at run time, and the
 * page certificate being swapped while the server keeps serving.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../src/util/clock.ts";
import { formatFingerprint } from "../src/tls/certificates.ts";
import { call, login, PASSWORD, withTimeout } from "./admin_helpers.ts";
import { freePort, startTestServer, type TestServer } from "./helpers/server.ts";

const DAY_MS = 86_400_000;

/** GET over HTTPS trusting only `certPem`, on a fresh connection. */
async function httpsGet(
  port: number,
  certPem: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const client = Deno.createHttpClient({ caCerts: [certPem] });
  try {
    const res = await fetch(`https://127.0.0.1:${port}${path}`, { client, headers });
    return { status: res.status, text: await res.text() };
  } finally {
    client.close();
  }
}

function adminServer(opts: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  return startTestServer({ adminPassword: PASSWORD, sender: "deno", ...opts });
}

Deno.test("the HTTPS setting needs a session and the page's origin; a bad port is a contract error", async () => {
  const server = await adminServer();
  const base = server.url;
  try {
    assert.equal((await call(base, "GET", "/api/admin/https")).status, 401);
    const anon = await call(base, "POST", "/api/admin/https", { body: { enabled: true } });
    assert.equal(anon.status, 401);
    assert.equal(anon.body.error.code, "unauthorized");

    const cookie = await login(base);
    const st = await call(base, "GET", "/api/admin/https", { cookie });
    assert.equal(st.status, 200);
    assert.equal(st.body.enabled, false, "off by default");
    assert.equal(st.body.port, 8443);
    assert.equal(st.body.listening, false);
    assert.equal(st.body.page_certificate, null);
    assert.equal(server.ctx.https.tls, null);

    const port = freePort();
    const cross = await call(base, "POST", "/api/admin/https", {
      cookie,
      body: { enabled: true, port },
      headers: { origin: "http://evil.example" },
    });
    assert.equal(cross.status, 403);
    assert.equal(cross.body.error.code, "cross_origin");

    const bad: [unknown, RegExp][] = [
      [{ enabled: true, port: 80 }, /at least 1024/],
      [{ enabled: true, port: 70000 }, /at most 65535/],
      [{ enabled: "on" }, /true or false/],
      [{ enabled: true, port: server.httpPort }, /plain HTTP port/],
    ];
    for (const [body, msg] of bad) {
      const r = await call(base, "POST", "/api/admin/https", { cookie, body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.deepEqual(Object.keys(r.body), ["error"]);
      assert.equal(r.body.error.code, "invalid_value");
      assert.match(r.body.error.message, msg);
    }
    const patch = await call(base, "PATCH", "/api/admin/config", {
      cookie,
      body: { https: { enabled: true, port: 1 } },
    });
    assert.equal(patch.status, 400);
    assert.equal(patch.body.error.code, "invalid_value");

    // Nothing was written, nothing listens.
    const cfg = await call(base, "GET", "/api/admin/config", { cookie });
    assert.deepEqual(cfg.body.https, { enabled: false, port: 8443 });
    assert.equal(cfg.body.config_version, 1);
    await assert.rejects(() => Deno.connect({ hostname: "127.0.0.1", port }));
  } finally {
    await server.stop();
  }
});

Deno.test("turning HTTPS on serves the same app with the box's certificate; off stops it", async () => {
  const server = await adminServer();
  const base = server.url;
  try {
    const cookie = await login(base);
    const port = freePort();
    const on = await call(base, "POST", "/api/admin/https", {
      cookie,
      body: { enabled: true, port },
      headers: { origin: base },
    });
    assert.equal(on.status, 200, JSON.stringify(on.body));
    assert.equal(on.body.listening, true);
    assert.equal(on.body.error, null);
    assert.equal(on.body.config_version, 2);
    const tls = server.ctx.https.tls;
    assert.ok(tls, "the certificates are there while HTTPS is on");
    const page = tls.page();
    assert.equal(on.body.page_certificate.sha256, formatFingerprint(page.sha256));
    assert.ok(on.body.page_certificate.ip_addresses.includes("127.0.0.1"));
    assert.ok(
      on.body.urls.includes(`https://${on.body.urls[0].split("/")[2].split(":")[0]}:${port}/`),
    );
    assert.match(on.body.urls.at(-1), new RegExp(`^https://[a-z0-9.-]+\\.local:${port}/$`));

    const health = await httpsGet(port, page.certPem, "/health");
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(health.text).status, "ok");
    const listenerPage = await httpsGet(port, page.certPem, "/");
    assert.equal(listenerPage.status, 200);
    assert.match(listenerPage.text, /<html/i);
    // The admin API too (same app, same session).
    const overTls = await httpsGet(port, page.certPem, "/api/admin/https", { cookie });
    assert.equal(overTls.status, 200);
    assert.equal(JSON.parse(overTls.text).listening, true);
    // The WebTransport certificate is there for the listener page.
    assert.equal(tls.transport().sha256.length, 32);

    const qr = await call(base, "GET", "/api/admin/qr", { cookie });
    if (qr.body.addresses.length > 0) {
      assert.match(qr.body.https.url, new RegExp(`^https://.+:${port}/$`));
      assert.match(qr.body.url, /^http:\/\//, "the plain page's code stays");
    }

    const off = await call(base, "POST", "/api/admin/https", { cookie, body: { enabled: false } });
    assert.equal(off.status, 200);
    assert.equal(off.body.listening, false);
    assert.equal(off.body.config_version, 3);
    assert.equal(server.ctx.https.tls, null);
    await assert.rejects(() => httpsGet(port, page.certPem, "/health"));
    assert.equal((await call(base, "GET", "/health")).status, 200, "plain HTTP is unaffected");
    const qrOff = await call(base, "GET", "/api/admin/qr", { cookie });
    assert.equal(qrOff.body.https, null);

    // Through PATCH /api/admin/config as well; the certificate is the same as before.
    const patch = await call(base, "PATCH", "/api/admin/config", {
      cookie,
      body: { https: { enabled: true } },
    });
    assert.equal(patch.status, 200);
    assert.equal(patch.body.sessions_ended, 0);
    assert.equal((await httpsGet(port, page.certPem, "/health")).status, 200);
  } finally {
    await server.stop();
  }
});

Deno.test("HTTPS stays on across a restart with the same certificate", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "m32-https-" });
  try {
    const port = freePort();
    const a = await adminServer({ dataDir });
    const cookie = await login(a.url);
    await call(a.url, "POST", "/api/admin/https", { cookie, body: { enabled: true, port } });
    const first = formatFingerprint(a.ctx.https.tls!.page().sha256);
    await a.stop();
    await assert.rejects(() => Deno.connect({ hostname: "127.0.0.1", port }));

    const b = await adminServer({ dataDir });
    try {
      assert.ok(b.ctx.https.tls);
      assert.equal(formatFingerprint(b.ctx.https.tls.page().sha256), first);
      assert.equal((await httpsGet(port, b.ctx.https.tls.page().certPem, "/health")).status, 200);
      const st = b.ctx.https.status();
      assert.equal(st.listening, true);
      const mode = (await Deno.stat(`${dataDir}/tls/page.key.pem`)).mode! & 0o777;
      assert.equal(mode, 0o600);
    } finally {
      await b.stop();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a renewed page certificate is swapped in once no client is connected", async () => {
  // Certificates made 340 days ago: the renewal due today is valid for the (real-time) client.
  const tlsClock = new ManualClock(Date.now() - 340 * DAY_MS);
  const server = await adminServer({ tlsClock });
  const base = server.url;
  try {
    const cookie = await login(base);
    const port = freePort();
    await call(base, "POST", "/api/admin/https", { cookie, body: { enabled: true, port } });
    const tls = server.ctx.https.tls!;
    const old = tls.page();
    assert.equal((await httpsGet(port, old.certPem, "/health")).status, 200);
    // A listener connected over wss:// (a client session).
    const wsClient = Deno.createHttpClient({ caCerts: [old.certPem] });
    const ws = new WebSocket(
      `wss://127.0.0.1:${port}/ws`,
      { client: wsClient } as unknown as string[],
    );
    const welcome = await withTimeout(
      new Promise<Record<string, unknown>>((resolve, reject) => {
        ws.onmessage = (e) => resolve(JSON.parse(String(e.data)));
        ws.onerror = () => reject(new Error("wss failed"));
      }),
      "welcome over wss",
    );
    assert.equal(welcome.type, "welcome");
    assert.equal(server.ctx.sessions.list().length, 1);

    tlsClock.set(Date.now());
    await tls.renewDue();
    const fresh = tls.page();
    assert.notEqual(formatFingerprint(fresh.sha256), formatFingerprint(old.sha256));
    // Busy: the renewed certificate is saved but waits; the phone's socket stays up.
    let st = await call(base, "GET", "/api/admin/https", { cookie });
    assert.equal(st.body.page_certificate.sha256, formatFingerprint(old.sha256));
    assert.equal(st.body.pending_certificate.sha256, formatFingerprint(fresh.sha256));
    assert.equal((await httpsGet(port, old.certPem, "/health")).status, 200);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(ws.readyState, WebSocket.OPEN);

    // Idle: the next check swaps it in on the same port; nothing in between is refused.
    const closed = new Promise((r) => (ws.onclose = r));
    ws.close();
    await withTimeout(closed, "wss close");
    wsClient.close();
    await withTimeout(
      (async () => {
        while (server.ctx.sessions.list().length > 0) await new Promise((r) => setTimeout(r, 20));
      })(),
      "the session to end",
    );
    await server.ctx.https.apply();
    st = await call(base, "GET", "/api/admin/https", { cookie });
    assert.equal(st.body.page_certificate.sha256, formatFingerprint(fresh.sha256));
    assert.equal(st.body.pending_certificate, null);
    assert.equal(st.body.listening, true);
    assert.equal((await httpsGet(port, fresh.certPem, "/health")).status, 200);
    await assert.rejects(() => httpsGet(port, old.certPem, "/health"));
  } finally {
    await server.stop();
  }
});
