/**
 * The admin API (docs/protocol.md §9) against a real server: test source,
 * random ports, a fresh data directory per test.
 */
import assert from "node:assert/strict";
import { defaultChannels } from "../src/config/types.ts";
import { lanAddresses } from "../src/net/local_address.ts";
import {
  call,
  IPHONE_UA,
  JsonSocket,
  login,
  PASSWORD,
  PIXEL_UA,
  startAdminServer,
  streamingClient,
  withTimeout,
  wsUrl,
} from "./admin_helpers.ts";

Deno.test("every admin route but login answers 401 without a valid session", async () => {
  const { server } = await startAdminServer();
  const base = server.url;
  try {
    const routes: [string, string, unknown?][] = [
      ["GET", "/api/admin/config"],
      ["PATCH", "/api/admin/config", { network: { dscp: 10 } }],
      ["GET", "/api/admin/channels"],
      ["PUT", "/api/admin/channels", defaultChannels()],
      ["GET", "/api/admin/clients"],
      ["DELETE", "/api/admin/clients/c1-abc"],
      ["POST", "/api/admin/message", { text: "hello" }],
      ["GET", "/api/admin/status"],
      ["GET", "/api/admin/qr"],
      ["GET", "/api/admin/session"],
      ["POST", "/api/admin/password", { current: PASSWORD, new: "another-one" }],
      ["POST", "/api/admin/logout"],
      ["GET", "/api/admin/no-such-route"],
    ];
    for (const cookie of [undefined, "m32_admin=" + "ab".repeat(32), "m32_admin="]) {
      for (const [method, path, body] of routes) {
        const r = await call(base, method, path, { body, cookie });
        assert.equal(r.status, 401, `${method} ${path} with cookie ${cookie}`);
        assert.equal(r.body.error.code, "unauthorized");
      }
    }
    const live = new JsonSocket(new WebSocket(wsUrl(base, "/api/admin/live")));
    await assert.rejects(() => withTimeout(live.opened, "live upgrade"), /failed to open/);
    const probe = await call(base, "GET", "/api/admin/login");
    assert.deepEqual(probe.body, { logged_in: false, expires_at: null });
  } finally {
    await server.close();
  }
});

Deno.test("login sets an HttpOnly SameSite=Strict cookie; a wrong password gets 401", async () => {
  const { server } = await startAdminServer();
  const base = server.url;
  try {
    const wrong = await call(base, "POST", "/api/admin/login", { body: { password: "nope" } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get("set-cookie"), null);
    const res = await fetch(`${base}/api/admin/login`, {
      method: "POST",
      body: JSON.stringify({ password: PASSWORD }),
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const cookie = res.headers.get("set-cookie")!;
    assert.match(cookie, /^m32_admin=[0-9a-f]{64};/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Path=\//);
    assert.match(cookie, /Max-Age=43200/);
    const session = cookie.split(";")[0];
    assert.equal((await call(base, "GET", "/api/admin/config", { cookie: session })).status, 200);
    const probe = await call(base, "GET", "/api/admin/login", { cookie: session });
    assert.equal(probe.body.logged_in, true);
    assert.equal((await call(base, "POST", "/api/admin/logout", { cookie: session })).status, 200);
    assert.equal((await call(base, "GET", "/api/admin/config", { cookie: session })).status, 401);
  } finally {
    await server.close();
  }
});

Deno.test("a cross-origin mutation gets 403 even with a valid session, and changes nothing", async () => {
  const { server } = await startAdminServer();
  const base = server.url;
  try {
    const cookie = await login(base);
    const before = (await call(base, "GET", "/api/admin/config", { cookie })).body;
    const evil: Record<string, string>[] = [
      { origin: "http://evil.example" },
      { origin: base.replace(/:\d+$/, ":1") },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
    ];
    for (const headers of evil) {
      const r = await call(base, "PATCH", "/api/admin/config", {
        cookie,
        headers,
        body: { network: { dscp: 12 } },
      });
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.equal(r.body.error.code, "cross_origin");
    }
    for (
      const [method, path, body] of [
        ["PUT", "/api/admin/channels", defaultChannels()],
        ["POST", "/api/admin/message", { text: "hi" }],
        ["DELETE", "/api/admin/clients/x"],
        ["POST", "/api/admin/login", { password: PASSWORD }],
        ["POST", "/jitter-thresholds", { interpolate: 50, drop: 90 }],
      ] as const
    ) {
      const r = await call(base, method, path, {
        cookie,
        headers: { origin: "http://evil.example" },
        body,
      });
      assert.equal(r.status, 403, `${method} ${path}`);
    }
    const after = (await call(base, "GET", "/api/admin/config", { cookie })).body;
    assert.deepEqual(after, before);
    const same = await call(base, "PATCH", "/api/admin/config", {
      cookie,
      headers: { origin: base, "sec-fetch-site": "same-origin" },
      body: { network: { dscp: 12 } },
    });
    assert.equal(same.status, 200);
    const live = new JsonSocket(
      new WebSocket(
        wsUrl(base, "/api/admin/live"),
        { headers: { cookie, origin: "http://evil.example" } } as unknown as string[],
      ),
    );
    await assert.rejects(() => withTimeout(live.opened, "live upgrade"), /failed to open/);
  } finally {
    await server.close();
  }
});

Deno.test("the sixth login attempt within a minute gets 429, even with the right password", async () => {
  const { server } = await startAdminServer();
  const base = server.url;
  try {
    for (let i = 1; i <= 5; i++) {
      const r = await call(base, "POST", "/api/admin/login", { body: { password: `wrong-${i}` } });
      assert.equal(r.status, 401, `attempt ${i}`);
    }
    const r = await call(base, "POST", "/api/admin/login", { body: { password: PASSWORD } });
    assert.equal(r.status, 429);
    assert.equal(r.body.error.code, "too_many_attempts");
    const retry = Number(r.headers.get("retry-after"));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    assert.equal(r.headers.get("set-cookie"), null);
  } finally {
    await server.close();
  }
});

Deno.test("every kind of bad value gets 400 and leaves the configuration unchanged", async () => {
  const { server } = await startAdminServer();
  const base = server.url;
  try {
    const cookie = await login(base);
    const before = (await call(base, "GET", "/api/admin/config", { cookie })).body;
    const channelsBefore = (await call(base, "GET", "/api/admin/channels", { cookie })).body;
    const badPatches: unknown[] = [
      { video: { fps: 30 } },
      { audio: { bitrate: 128 } },
      { audio: { native_sample_rate: 96000 } },
      { audio: { sample_rate: 16000 } },
      { audio: { native_sample_rate: 44100, sample_rate: 48000 } },
      { audio: { encoding: "L8" } },
      { audio: { ptime_ms: 4 } },
      { audio: { max_datagram_bytes: 100 } },
      { audio: { max_datagram_bytes: 9000 } },
      { audio: { test_mode: true } },
      { network: { dscp: 64 } },
      { network: { max_clients: 0 } },
      { network: { heartbeat_timeout_s: 1 } },
      { network: { ext_interval_ms: 5 } },
      { jitter: { interpolate: 300, drop: 200 } },
      { jitter: { drop: 20000 } },
      { adaptation: { enabled: "true" } },
      { adaptation: { latency_ms: 0 } },
      { adaptation: { hold_s: 0 } },
      { adaptation: { recover_hold_s: 100000 } },
      { alsa: { device: "x".repeat(200) } },
      { alsa: { device: "hw:0\u0000" } },
      // one good key beside a bad one: nothing of it applies
      { network: { dscp: 8 }, audio: { encoding: "mp3" } },
      [],
      "config",
    ];
    for (const body of badPatches) {
      const r = await call(base, "PATCH", "/api/admin/config", { cookie, body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error.code, "invalid_value");
      assert.equal(typeof r.body.error.message, "string");
    }
    const badJson = await call(base, "PATCH", "/api/admin/config", { cookie, raw: "{nope" });
    assert.equal(badJson.status, 400);
    assert.equal(badJson.body.error.code, "bad_json");

    const ok = defaultChannels();
    const badTables: unknown[] = [
      ok.slice(0, 31),
      ok.map((c) => (c.id === 7 ? { ...c, id: 8 } : c)),
      ok.map((c) => (c.id === 7 ? { ...c, name: "" } : c)),
      ok.map((c) => (c.id === 7 ? { ...c, name: "n".repeat(33) } : c)),
      ok.map((c) => (c.id === 7 ? { ...c, order: 8 } : c)),
      ok.map((c) => (c.id === 7 ? { ...c, order: -1 } : c)),
      ok.map((c) => (c.id === 7 ? { ...c, enabled: "yes" } : c)),
      { channels: ok },
    ];
    for (const body of badTables) {
      const r = await call(base, "PUT", "/api/admin/channels", { cookie, body });
      assert.equal(r.status, 400);
    }
    for (
      const [path, body] of [
        ["/api/admin/message", { text: "" }],
        ["/api/admin/message", { text: "x".repeat(501) }],
        ["/api/admin/message", { message: "hi" }],
        ["/api/admin/password", { current: PASSWORD, new: "short" }],
        ["/jitter-thresholds", { interpolate: 0, drop: 10 }],
      ] as const
    ) {
      const r = await call(base, "POST", path, { cookie, body });
      assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}`);
    }
    assert.deepEqual((await call(base, "GET", "/api/admin/config", { cookie })).body, before);
    assert.deepEqual(
      (await call(base, "GET", "/api/admin/channels", { cookie })).body,
      channelsBefore,
    );
  } finally {
    await server.close();
  }
});

Deno.test("a config patch commits, bumps config_version, and a stale version gets 409", async () => {
  const { server } = await startAdminServer();
  const base = server.url;
  try {
    const cookie = await login(base);
    const before = (await call(base, "GET", "/api/admin/config", { cookie })).body;
    const r = await call(base, "PATCH", "/api/admin/config", {
      cookie,
      body: {
        audio: { encoding: "L16", ptime_ms: 2.5, test_mode: "tone" },
        network: { dscp: 34, ext_interval_ms: 0, max_clients: 7 },
        jitter: { interpolate: 40, drop: 80 },
        adaptation: { enabled: false, recover_hold_s: 600 },
        alsa: { device: "plughw:1,0" },
      },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.status, "ok");
    assert.equal(r.body.config_version, before.config_version + 1);
    const after = (await call(base, "GET", "/api/admin/config", { cookie })).body;
    assert.equal(after.audio.encoding, "L16");
    assert.equal(after.audio.ptime_ms, 2.5);
    assert.equal(after.network.ext_interval_ms, 0);
    assert.deepEqual(after.jitter, { interpolate: 40, drop: 80 });
    assert.equal(after.adaptation.enabled, false);
    assert.equal(after.alsa.device, "plughw:1,0");
    assert.deepEqual((await call(base, "GET", "/jitter-thresholds")).body, {
      interpolate: 40,
      drop: 80,
    });
    const noop = await call(base, "PATCH", "/api/admin/config", {
      cookie,
      body: { network: { dscp: 34 } },
    });
    assert.equal(noop.body.config_version, after.config_version, "no change, no new version");
    const stale = await call(base, "PATCH", "/api/admin/config", {
      cookie,
      body: { config_version: before.config_version, network: { dscp: 1 } },
    });
    assert.equal(stale.status, 409);
  } finally {
    await server.close();
  }
});

Deno.test("configuration, channels and the password persist across a restart", async () => {
  const first = await startAdminServer();
  const dataDir = first.dataDir;
  let cookie = await login(first.server.url);
  const channels = defaultChannels().map((c) =>
    c.id === 3 ? { ...c, name: "Bass DI" } : c.id === 4 ? { ...c, enabled: false } : c
  );
  assert.equal(
    (await call(first.server.url, "PUT", "/api/admin/channels", { cookie, body: channels })).status,
    200,
  );
  assert.equal(
    (await call(first.server.url, "PATCH", "/api/admin/config", {
      cookie,
      body: { network: { max_clients: 12, heartbeat_timeout_s: 45 }, audio: { encoding: "L16" } },
    })).status,
    200,
  );
  const pw = await call(first.server.url, "POST", "/api/admin/password", {
    cookie,
    body: { current: PASSWORD, new: "new-secret-99" },
  });
  assert.equal(pw.status, 200);
  const saved = (await call(first.server.url, "GET", "/api/admin/config", { cookie })).body;
  await first.server.close();

  // The option only sets a first password: the stored one wins.
  const second = await startAdminServer(dataDir, "ignored-password");
  const base = second.server.url;
  try {
    assert.equal(
      (await call(base, "GET", "/api/admin/config", { cookie })).status,
      401,
      "sessions are in memory",
    );
    assert.equal(
      (await call(base, "POST", "/api/admin/login", { body: { password: PASSWORD } })).status,
      401,
    );
    assert.equal(
      (await call(base, "POST", "/api/admin/login", { body: { password: "ignored-password" } }))
        .status,
      401,
    );
    cookie = await login(base, "new-secret-99");
    assert.deepEqual((await call(base, "GET", "/api/admin/config", { cookie })).body, saved);
    const ch = (await call(base, "GET", "/api/admin/channels", { cookie })).body;
    assert.equal(ch[2].name, "Bass DI");
    assert.equal(ch[3].enabled, false);
    const meta = (await call(base, "GET", "/audio-meta")).body;
    assert.equal(meta.channels.length, 31);
    assert.equal(meta.encoding, "L16");
  } finally {
    await second.server.close();
  }
});

Deno.test("disabling a channel ends a streaming client's session with config_changed", async () => {
  const { server } = await startAdminServer();
  const base = server.url;
  const client = await streamingClient(base);
  try {
    const cookie = await login(base);
    const clients = (await call(base, "GET", "/api/admin/clients", { cookie })).body;
    assert.equal(clients.length, 1);
    assert.equal(clients[0].client_id, client.clientId);
    assert.equal(clients[0].streaming, true);
    const body = defaultChannels().map((c) => (c.id === 5 ? { ...c, enabled: false } : c));
    const r = await call(base, "PUT", "/api/admin/channels", { cookie, body });
    assert.equal(r.status, 200);
    assert.equal(r.body.sessions_ended, 1);
    const ev = await client.sock.next(
      (m) => m.type === "event" && m.payload.type === "config_changed",
      "config_changed",
    );
    assert.match(ev.payload.reason, /channel mapping/);
    assert.equal(ev.payload.config_version, r.body.config_version);
    await withTimeout(client.sock.closed, "the server closing the client's socket");
    const meta = (await call(base, "GET", "/audio-meta")).body;
    assert.deepEqual(meta.channels.map((c: { id: number }) => c.id).includes(5), false);
    assert.equal((await call(base, "GET", "/api/admin/clients", { cookie })).body.length, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("a channel rename keeps every stream playing and shows the new name in /audio-meta", async () => {
  const { server } = await startAdminServer();
  const base = server.url;
  const client = await streamingClient(base);
  try {
    const cookie = await login(base);
    const body = defaultChannels().map((c) => (c.id === 1 ? { ...c, name: "Kick" } : c));
    const r = await call(base, "PUT", "/api/admin/channels", { cookie, body });
    assert.equal(r.status, 200);
    assert.equal(r.body.sessions_ended, 0);
    assert.equal((await call(base, "GET", "/api/admin/clients", { cookie })).body.length, 1);
    assert.equal((await call(base, "GET", "/audio-meta")).body.channels[0].name, "Kick");
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("a rename's reason does not label the next, unrelated config_changed", async () => {
  const { server } = await startAdminServer();
  const base = server.url;
  const client = await streamingClient(base);
  try {
    const cookie = await login(base);
    const body = defaultChannels().map((c) => (c.id === 1 ? { ...c, name: "Kick" } : c));
    assert.equal((await call(base, "PUT", "/api/admin/channels", { cookie, body })).status, 200);
    // A wire change that names no reason (here: straight to the store, as a rate step would).
    server.ctx.store.setSampleRate(44100);
    const ev = await client.sock.next(
      (m) => m.type === "event" && m.payload.type === "config_changed",
      "config_changed",
    );
    assert.equal(ev.payload.reason, "configuration changed");
    assert.equal(ev.payload.new_sample_rate, 44100);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("a custom message reaches every connected client", async () => {
  const { server } = await startAdminServer();
  const base = server.url;
  const a = await JsonSocket.open(wsUrl(base, "/ws"));
  const b = await streamingClient(base);
  try {
    await a.next((m) => m.type === "welcome", "welcome");
    const cookie = await login(base);
    const text = "Soundcheck in 5 minutes — 사운드체크";
    const r = await call(base, "POST", "/api/admin/message", { cookie, body: { text } });
    assert.equal(r.status, 200);
    assert.equal(r.body.clients, 2);
    for (const sock of [a, b.sock]) {
      const ev = await sock.next(
        (m) => m.type === "event" && m.payload.type === "custom_message",
        "custom_message",
      );
      assert.equal(ev.payload.text, text);
    }
  } finally {
    await a.close();
    await b.close();
    await server.close();
  }
});

Deno.test("the clients list is oldest first and DELETE ends one client with reconnect", async () => {
  const { server } = await startAdminServer();
  const base = server.url;
  const first = await streamingClient(base);
  const second = await JsonSocket.open(wsUrl(base, "/ws"));
  try {
    const welcome = await second.next((m) => m.type === "welcome", "welcome");
    const cookie = await login(base);
    const list = (await call(base, "GET", "/api/admin/clients", { cookie })).body;
    assert.deepEqual(list.map((c: { client_id: string }) => c.client_id), [
      first.clientId,
      welcome.client_id,
    ]);
    const c0 = list[0];
    assert.equal(c0.address, "127.0.0.1");
    assert.equal(c0.udp_port, (first.udp.addr as Deno.NetAddr).port);
    assert.equal(c0.channels.length, 32);
    assert.equal(c0.sample_rate, 48000);
    assert.equal(c0.compression, "none");
    assert.equal(typeof c0.packets_sent, "number");
    assert.ok(!Number.isNaN(Date.parse(c0.last_heartbeat)));
    assert.equal(c0.transport, "udp");
    assert.equal(c0.qos, null);
    assert.equal(list[1].udp_port, null);

    const qos = await call(base, "POST", "/qos-metrics", {
      body: {
        client_id: first.clientId,
        metrics: {
          packets_received: 990,
          packets_expected: 1000,
          packet_loss_rate: 0.01,
          jitter_ms: 3.5,
          latency_ms: 21,
          bandwidth_mbps: 2.3,
        },
      },
    });
    assert.equal(qos.status, 200);
    const withQos = (await call(base, "GET", "/api/admin/clients", { cookie })).body[0];
    assert.equal(withQos.qos.jitter_ms, 3.5);
    assert.equal(withQos.qos.packet_loss_rate, 0.01);

    const del = await call(base, "DELETE", `/api/admin/clients/${first.clientId}`, { cookie });
    assert.equal(del.status, 200);
    const ev = await first.sock.next((m) => m.type === "event", "reconnect event");
    assert.equal(ev.payload.type, "reconnect");
    assert.equal(typeof ev.payload.reason, "string");
    await withTimeout(first.sock.closed, "socket close after DELETE");
    const rest = (await call(base, "GET", "/api/admin/clients", { cookie })).body;
    assert.deepEqual(rest.map((c: { client_id: string }) => c.client_id), [welcome.client_id]);
    const missing = await call(base, "DELETE", `/api/admin/clients/${first.clientId}`, { cookie });
    assert.equal(missing.status, 404);
  } finally {
    await first.close();
    await second.close();
    await server.close();
  }
});

Deno.test("the clients list names each phone by its User-Agent (the protocol has no name field)", async () => {
  const { server } = await startAdminServer();
  const base = server.url;
  const iphone = await streamingClient(base, IPHONE_UA);
  const pixel = await streamingClient(base, PIXEL_UA);
  try {
    const cookie = await login(base);
    const list = (await call(base, "GET", "/api/admin/clients", { cookie })).body;
    assert.deepEqual(list.map((c: { device: string }) => c.device), [
      "iPhone · Safari",
      "Android (Pixel 8) · Chrome",
    ]);
    // Deno's WebSocket puts its own "Deno/…, " before the User-Agent it is given.
    assert.ok(list[0].user_agent.endsWith(IPHONE_UA), list[0].user_agent);
    assert.ok(list[1].user_agent.endsWith(PIXEL_UA), list[1].user_agent);
  } finally {
    await iphone.close();
    await pixel.close();
    await server.close();
  }
});

Deno.test("a password change needs the current password (403 keeps the session) and logs out other sessions", async () => {
  const { server } = await startAdminServer();
  const base = server.url;
  try {
    const mine = await login(base);
    const other = await login(base);
    const wrong = await call(base, "POST", "/api/admin/password", {
      cookie: mine,
      body: { current: "not-it", new: "brand-new-pass" },
    });
    // 403, not 401: the contract's 401 means "not logged in" (protocol §3), which a client
    // (the admin page) answers by logging out.
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.error.code, "wrong_password");
    assert.match(wrong.body.error.message, /current password is wrong/);
    assert.equal(wrong.headers.get("set-cookie"), null, "the session cookie is left alone");
    assert.equal(
      (await call(base, "GET", "/api/admin/config", { cookie: mine })).status,
      200,
      "a wrong current password does not log out",
    );
    assert.equal(
      (await call(base, "GET", "/api/admin/login", { cookie: mine })).body.logged_in,
      true,
    );
    const ok = await call(base, "POST", "/api/admin/password", {
      cookie: mine,
      body: { current: PASSWORD, new: "brand-new-pass" },
    });
    assert.equal(ok.status, 200);
    assert.equal((await call(base, "GET", "/api/admin/config", { cookie: mine })).status, 200);
    assert.equal((await call(base, "GET", "/api/admin/config", { cookie: other })).status, 401);
    assert.equal(
      (await call(base, "POST", "/api/admin/login", { body: { password: PASSWORD } })).status,
      401,
    );
    await login(base, "brand-new-pass");
  } finally {
    await server.close();
  }
});

Deno.test("POST /jitter-thresholds works with an admin session and is 401 without", async () => {
  const { server } = await startAdminServer();
  const base = server.url;
  try {
    const body = { interpolate: 120, drop: 250 };
    const anon = await call(base, "POST", "/jitter-thresholds", { body });
    assert.equal(anon.status, 401);
    assert.deepEqual((await call(base, "GET", "/jitter-thresholds")).body, {
      interpolate: 100,
      drop: 200,
    });
    const cookie = await login(base);
    const r = await call(base, "POST", "/jitter-thresholds", { cookie, body });
    assert.equal(r.status, 200);
    assert.deepEqual((await call(base, "GET", "/jitter-thresholds")).body, body);
  } finally {
    await server.close();
  }
});

Deno.test("status and QR describe the server and the address phones should open", async () => {
  const { server } = await startAdminServer();
  const base = server.url;
  try {
    const cookie = await login(base);
    const st = (await call(base, "GET", "/api/admin/status", { cookie })).body;
    assert.equal(st.source.kind, "test");
    assert.ok(["idle", "starting", "running"].includes(st.source.state));
    assert.equal(st.source.sink_errors, 0, "the admin page shows the sink error count");
    assert.equal(st.http_port, server.httpPort);
    assert.ok(Array.isArray(st.recent_log));
    assert.deepEqual(st.overrides, {});
    const qr = (await call(base, "GET", "/api/admin/qr", { cookie })).body;
    const lan = lanAddresses();
    if (lan.length === 0) {
      assert.equal(qr.url, null);
    } else {
      assert.equal(qr.url, `http://${lan[0]}:${server.httpPort}/`);
      assert.doesNotMatch(qr.url, /localhost|127\.0\.0\.1/);
      assert.match(qr.svg, /^<svg/);
    }
    assert.deepEqual(qr.addresses, lan);
  } finally {
    await server.close();
  }
});

Deno.test("the live feed pushes snapshots with the clients, and closes on logout", async () => {
  const { server } = await startAdminServer();
  const base = server.url;
  const client = await streamingClient(base);
  try {
    const cookie = await login(base);
    const live = await JsonSocket.open(wsUrl(base, "/api/admin/live"), { cookie });
    const hello = await live.next((m) => m.type === "hello", "hello");
    assert.ok(Array.isArray(hello.history));
    const snap = await live.next(
      (m) => m.type === "snapshot" && m.clients.length === 1,
      "a snapshot with one client",
    );
    assert.equal(snap.clients[0].client_id, client.clientId);
    assert.equal(snap.status.streaming_clients, 1);
    // A change pushes a snapshot with the new version.
    const v = (await call(base, "PATCH", "/api/admin/config", {
      cookie,
      body: { adaptation: { hold_s: 20 } },
    })).body.config_version;
    await live.next(
      (m) => m.type === "snapshot" && m.status.config_version === v,
      "snapshot after change",
    );
    await call(base, "POST", "/api/admin/logout", { cookie });
    const closed = await withTimeout(live.closed, "live close on logout");
    assert.equal(closed.code, 4401);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("the admin page is served with a strict CSP and /admin redirects to /admin/", async () => {
  const { server } = await startAdminServer();
  const base = server.url;
  try {
    const redirect = await fetch(`${base}/admin`, { redirect: "manual" });
    await redirect.body?.cancel();
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get("location"), "/admin/");
    for (
      const [path, type] of [
        ["/admin/", "text/html"],
        ["/admin/admin.js", "text/javascript"],
        ["/admin/admin.css", "text/css"],
      ]
    ) {
      const res = await fetch(base + path);
      const text = await res.text();
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type")!, new RegExp(type));
      const csp = res.headers.get("content-security-policy")!;
      assert.match(csp, /default-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.ok(text.length > 100);
      if (path === "/admin/") {
        assert.doesNotMatch(
          text,
          /<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son\w+=/i,
        );
      }
    }
  } finally {
    await server.close();
  }
});
