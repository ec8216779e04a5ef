/**
 * The WebTransport transport's server end with Deno's own WebTransport client
 * (unstable "net"): HTTPS on, the page's flow — GET /listener/webtransport,
 * /listen?transport=webtransport, webtransport_connect → token, a
 * WebTransport session presenting the token — delivers the session's RTP
 * packets (Opus by default, PCM on request) as datagrams that fit the
 * datagram budget. Tokens are one-time and tied to the asking address; bad
 * input gets the contract's error shape; a closed WebTransport session ends
 * the listener session; a rotated certificate restarts the endpoint with the
 * new hash. With HTTPS off the endpoint is 409 `webtransport_unavailable`.
 */
import assert from "node:assert/strict";
import { JsonSocket } from "./admin_helpers.ts";
import { freePort, startToneServer } from "./listener_helpers.ts";
import { parseRtp, PT_OPUS, PT_PCM } from "../src/rtp/packet.ts";
import {
  type BoundSession,
  datagramChannel,
  type TransportCertificates,
  WEBTRANSPORT_MAX_DATAGRAM_BYTES,
  WebTransportServer,
} from "../src/listener/webtransport.ts";
import { type CertMaterial, generateCertificate } from "../src/tls/certificates.ts";
import type { RunningServer } from "../src/server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const NAMES = { dns: ["localhost"], ips: ["127.0.0.1"] };

interface Offer {
  url: string;
  port: number;
  certificate_sha256: string;
  expires: string;
  max_datagram_bytes: number;
}

function hashBytes(hex: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
}

function connectWt(offer: Offer, token: string): WebTransport {
  const wt = new WebTransport(`${offer.url}?token=${token}`, {
    serverCertificateHashes: [{ algorithm: "sha-256", value: hashBytes(offer.certificate_sha256) }],
  });
  wt.closed.catch(() => {});
  wt.ready.catch(() => {});
  return wt;
}

/** Whether a WebTransport session is refused (closed by the server right after it opened, or never ready). */
async function refused(wt: WebTransport): Promise<boolean> {
  const r = await Promise.race([
    wt.closed.then(() => true, () => true),
    new Promise<false>((res) => setTimeout(() => res(false), 3000)),
  ]);
  return r;
}

async function readDatagrams(wt: WebTransport, n: number): Promise<Uint8Array[]> {
  const reader = wt.datagrams.readable.getReader();
  const out: Uint8Array[] = [];
  const timer = setTimeout(() => reader.cancel(), 10_000);
  try {
    while (out.length < n) {
      const { value, done } = await reader.read();
      if (done) break;
      out.push(value);
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  return out;
}

async function offerOf(server: RunningServer): Promise<Offer> {
  const r = await fetch(`${server.url}/listener/webtransport`);
  assert.equal(r.status, 200);
  return await r.json();
}

async function listen(server: RunningServer, transport = "webtransport"): Promise<JsonSocket> {
  const ws = await JsonSocket.open(
    `${server.url.replace("http", "ws")}/listen?transport=${transport}`,
  );
  await ws.next((m) => m.type === "welcome", "welcome");
  return ws;
}

async function token(ws: JsonSocket): Promise<string> {
  const before = ws.messages.length;
  ws.ws.send(JSON.stringify({ type: "webtransport_connect" }));
  const m = await ws.next(
    (m) => m.type === "webtransport_token" && ws.messages.indexOf(m) >= before,
    "webtransport_token",
  );
  assert.match(m.token, /^[0-9a-f]{32}$/);
  return m.token;
}

/** Closes test WebTransport sessions that may already be gone. */
function closeAll(wts: WebTransport[]): void {
  for (const w of wts) {
    try {
      w.close();
    } catch { /* closed */ }
  }
}

Deno.test({
  name: "webtransport: the session's RTP arrives as datagrams, one session per token",
  ...opts,
  fn: async () => {
    const { server } = await startToneServer({ channels: 32, httpsPort: freePort() });
    const sockets: JsonSocket[] = [];
    const wts: WebTransport[] = [];
    try {
      const offer = await offerOf(server);
      assert.equal(offer.port, server.ctx.https.status().port);
      assert.equal(offer.max_datagram_bytes, WEBTRANSPORT_MAX_DATAGRAM_BYTES);
      assert.match(offer.certificate_sha256, /^[0-9a-f]{64}$/);
      const tlsHash = [...server.ctx.https.tls!.transport().sha256].map((b) =>
        b.toString(16).padStart(2, "0")
      ).join("");
      assert.equal(offer.certificate_sha256, tlsHash, "the transport certificate's hash");
      assert.ok(new Date(offer.expires).getTime() - Date.now() <= 14 * 86_400_000);

      // Opus, all 32 channels: sized for the datagram budget (two groups instead of one).
      const ws = await listen(server);
      sockets.push(ws);
      ws.ws.send(JSON.stringify({ type: "client_config", payload: { compression: "opus" } }));
      const ack = (await ws.next((m) => m.type === "client_config_ack", "ack")).payload;
      assert.equal(ack.channels.length, 32);
      assert.ok(ack.channel_groups.length >= 2, JSON.stringify(ack.channel_groups));
      const t = await token(ws);
      const wt = connectWt(offer, t);
      wts.push(wt);
      await wt.ready;
      const got = await readDatagrams(wt, 100);
      assert.equal(got.length, 100);
      for (const d of got) {
        assert.ok(d.length <= WEBTRANSPORT_MAX_DATAGRAM_BYTES, `datagram of ${d.length} bytes`);
        const p = parseRtp(d);
        assert.equal(p.ssrc >>> 0, ack.ssrc);
        assert.equal(p.payloadType, PT_OPUS);
      }
      const s = server.ctx.sessions.list();
      assert.equal(s.length, 1);
      assert.equal(s[0].kind, "webtransport", "the admin list shows the transport");
      assert.equal(server.ctx.sessions.streamingCount, 1);

      // The token was used: presenting it again is refused, and so is a made-up one.
      const again = connectWt(offer, t);
      wts.push(again);
      assert.ok(await refused(again), "a used token is refused");
      const bogus = connectWt(offer, "00".repeat(16));
      wts.push(bogus);
      assert.ok(await refused(bogus), "an unknown token is refused");
      // The first session still streams.
      assert.equal((await readDatagrams(wt, 10)).length, 10);

      // PCM on request: full-size PCM packets also fit.
      const ws2 = await listen(server);
      sockets.push(ws2);
      ws2.ws.send(JSON.stringify({ type: "client_config", payload: { compression: "none" } }));
      const ack2 = (await ws2.next((m) => m.type === "client_config_ack", "ack")).payload;
      const wt2 = connectWt(offer, await token(ws2));
      wts.push(wt2);
      await wt2.ready;
      const pcm = await readDatagrams(wt2, 50);
      assert.equal(pcm.length, 50);
      for (const d of pcm) {
        assert.ok(d.length <= WEBTRANSPORT_MAX_DATAGRAM_BYTES, `datagram of ${d.length} bytes`);
        const p = parseRtp(d);
        assert.equal(p.ssrc >>> 0, ack2.ssrc);
        assert.equal(p.payloadType, PT_PCM);
      }
      assert.ok(pcm.some((d) => d.length > 1000), "PCM packets are filled to the budget");
      assert.equal(server.ctx.sessions.streamingCount, 2);

      // The page sends garbage (datagrams, a stream): ignored, nothing breaks.
      const w = wt2.datagrams.writable.getWriter();
      await w.write(new Uint8Array([1, 2, 3, 0xff])).catch(() => {});
      w.releaseLock();
      const bi = await wt2.createBidirectionalStream().catch(() => null);
      if (bi) {
        const sw = bi.writable.getWriter();
        await sw.write(new Uint8Array(100).fill(7)).catch(() => {});
      }
      assert.equal((await readDatagrams(wt2, 10)).length, 10);

      // The WebTransport session closes: the listener session ends (the page reconnects).
      wt2.close();
      const closed = await ws2.closed;
      assert.equal(closed.code, 4001);
      assert.equal(server.ctx.sessions.streamingCount, 1);
    } finally {
      closeAll(wts);
      for (const s of sockets) s.ws.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "webtransport: bad input gets the contract's error shape, and max_clients counts",
  ...opts,
  fn: async () => {
    const { server } = await startToneServer({ channels: 8, httpsPort: freePort() });
    const sockets: JsonSocket[] = [];
    const wts: WebTransport[] = [];
    try {
      const offer = await offerOf(server);
      // webtransport_connect on a websocket session.
      const plain = await listen(server, "websocket");
      sockets.push(plain);
      plain.ws.send(JSON.stringify({ type: "webtransport_connect" }));
      const err = await plain.next((m) => m.type === "error", "error");
      assert.equal(err.code, "unknown_type");
      // Garbage that looks like signalling.
      const ws = await listen(server);
      sockets.push(ws);
      ws.ws.send('{"type":"webtransport_connect"');
      ws.ws.send('{"type":"webtransport_nonsense"}');
      ws.ws.send(new Uint8Array([0x7b, 0x22, 0xff]));
      const errs = await ws.next(
        (m) => m.type === "error" && ws.messages.filter((x) => x.type === "error").length >= 2,
        "errors",
      );
      assert.ok(errs.code);
      // The session still works after that.
      ws.ws.send(JSON.stringify({ type: "client_config", payload: { compression: "opus" } }));
      await ws.next((m) => m.type === "client_config_ack", "ack");
      const wt = connectWt(offer, await token(ws));
      wts.push(wt);
      await wt.ready;
      assert.equal((await readDatagrams(wt, 5)).length, 5);

      // A wrong path with a valid token is refused and does not consume it.
      const t = await token(ws);
      const wrong = new WebTransport(
        `${offer.url.replace("/listener/wt", "/elsewhere")}?token=${t}`,
        {
          serverCertificateHashes: [{
            algorithm: "sha-256",
            value: hashBytes(offer.certificate_sha256),
          }],
        },
      );
      wrong.ready.catch(() => {});
      wts.push(wrong);
      assert.ok(await refused(wrong));

      // max_clients: 1 — a second phone's WebTransport is refused with server_full.
      server.ctx.store.patch({ network: { max_clients: 1 } });
      await ws.closed; // a configuration change ends sessions
      const first = await listen(server);
      sockets.push(first);
      first.ws.send(JSON.stringify({ type: "client_config", payload: { compression: "opus" } }));
      const offer2 = await offerOf(server);
      const w1 = connectWt(offer2, await token(first));
      wts.push(w1);
      await w1.ready;
      const second = await listen(server);
      sockets.push(second);
      const w2 = connectWt(offer2, await token(second));
      wts.push(w2);
      const full = await second.next((m) => m.type === "error", "server_full");
      assert.equal(full.code, "server_full");
      assert.equal((await second.closed).code, 1013);
    } finally {
      closeAll(wts);
      for (const s of sockets) s.ws.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "webtransport: 409 webtransport_unavailable while HTTPS is off",
  ...opts,
  fn: async () => {
    const { server } = await startToneServer({ channels: 2 });
    try {
      const r = await fetch(`${server.url}/listener/webtransport`);
      assert.equal(r.status, 409);
      const body = await r.json();
      assert.equal(body.error.code, "webtransport_unavailable");
      assert.equal(typeof body.error.message, "string");
      const r2 = await fetch(`${server.url}/listen?transport=webtransport`, {
        headers: { upgrade: "websocket", connection: "upgrade" },
      });
      assert.equal(r2.status, 409);
      assert.equal((await r2.json()).error.code, "webtransport_unavailable");
      const r3 = await fetch(`${server.url}/listen?transport=carrier-pigeon`);
      assert.equal(r3.status, 400);
      assert.equal((await r3.json()).error.code, "invalid_value");
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name:
    "webtransport: pages are told the bound port, or the public port when one is set (and may connect there)",
  ...opts,
  fn: async () => {
    const connectSrc = (csp: string | null) =>
      (csp ?? "").split("; ").find((d) => d.startsWith("connect-src")) ?? "";
    for (const publicPort of [undefined, freePort()]) {
      const httpsPort = freePort();
      const { server } = await startToneServer({
        channels: 2,
        httpsPort,
        webtransportPublicPort: publicPort,
      });
      try {
        const offer = await (await fetch(`${server.url}/listener/webtransport`)).json() as Offer;
        const told = publicPort ?? httpsPort;
        assert.equal(offer.port, told);
        assert.equal(offer.url, `https://127.0.0.1:${told}/listener/wt`);
        // The page and the audio worker (which opens the session) may connect there: the
        // HTTPS origin is the box's anyway, another port must be allowed explicitly.
        for (const path of ["/", "/listener/audio-worker.js"]) {
          const r = await fetch(`${server.url}${path}`);
          await r.body?.cancel();
          const csp = connectSrc(r.headers.get("content-security-policy"));
          assert.equal(
            csp.includes(`https://127.0.0.1:${publicPort}`),
            publicPort !== undefined,
            csp,
          );
        }
      } finally {
        await server.close();
      }
    }
  },
});

/** Certificates a test can rotate by hand. */
class FakeCerts implements TransportCertificates {
  private cbs = new Set<(m: CertMaterial) => void>();
  constructor(public current: CertMaterial) {}
  transport() {
    return this.current;
  }
  onTransportRotate(cb: (m: CertMaterial) => void) {
    this.cbs.add(cb);
    return () => this.cbs.delete(cb);
  }
  rotate(m: CertMaterial) {
    this.current = m;
    for (const cb of this.cbs) cb(m);
  }
}

const quiet = { info: () => {}, warn: () => {} };
const hexOf = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

Deno.test({
  name:
    "webtransport endpoint: address-bound tokens; after a rotation new sessions need the new hash",
  ...opts,
  fn: async () => {
    const certs = new FakeCerts(await generateCertificate("transport", Date.now(), NAMES));
    const server = new WebTransportServer({ hostname: "127.0.0.1", port: 0, certs, log: quiet });
    const wts: WebTransport[] = [];
    try {
      const offer = server.info("127.0.0.1") as Offer;
      assert.equal(offer.certificate_sha256, hexOf(certs.current.sha256));
      // A token issued to another address.
      let bound = 0;
      const foreign = server.issueToken("10.9.8.7", () => bound++);
      const w0 = connectWt(offer, foreign);
      wts.push(w0);
      assert.ok(await refused(w0), "a token from another address is refused");
      assert.equal(bound, 0);

      // A good token binds; the session gets our datagrams.
      let first: BoundSession | null = null;
      const token = server.issueToken("127.0.0.1", (b) => {
        bound++;
        first = b;
        b.channel.send(new Uint8Array([0x80, 1, 2, 3]));
      });
      const w1 = connectWt(offer, token);
      wts.push(w1);
      await w1.ready;
      const [d] = await readDatagrams(w1, 1);
      assert.deepEqual([...d], [0x80, 1, 2, 3]);
      assert.equal(bound, 1);

      // Rotation: the endpoint listens with the new certificate; the open session goes on.
      const port = server.port;
      const next = await generateCertificate("transport", Date.now(), NAMES);
      certs.rotate(next);
      assert.ok(first);
      (first as BoundSession).channel.send(new Uint8Array([0x80, 7]));
      assert.deepEqual([...(await readDatagrams(w1, 1))[0]], [0x80, 7], "the open session goes on");
      const offer2 = server.info("127.0.0.1") as Offer;
      assert.equal(offer2.certificate_sha256, hexOf(next.sha256));
      assert.equal(server.port, port, "same UDP port");
      // The old hash no longer connects; the new one does.
      const stale = connectWt(offer, server.issueToken("127.0.0.1", () => bound++));
      wts.push(stale);
      assert.ok(await refused(stale), "the old certificate hash is refused");
      const fresh = connectWt(offer2, server.issueToken("127.0.0.1", () => bound++));
      wts.push(fresh);
      await fresh.ready;
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(bound, 2);
      // The session made before the rotation still works.
      let sent = 0;
      const late = server.issueToken("127.0.0.1", (b) => {
        sent++;
        b.channel.send(new Uint8Array([0x80, 9]));
      });
      const w3 = connectWt(offer2, late);
      wts.push(w3);
      await w3.ready;
      assert.deepEqual([...(await readDatagrams(w3, 1))[0]], [0x80, 9]);
      assert.equal(sent, 1);
    } finally {
      closeAll(wts);
      server.close();
    }
  },
});

Deno.test("webtransport: after the first datagram the channel writes to the connection directly, each with the session's prefix", async () => {
  // Deno's datagrams.writable as it is: the session id (one varint) in front of each datagram,
  // handed to the QUIC connection's sendDatagram.
  const onWire: Uint8Array[] = [];
  const conn = {
    sendDatagram(data: Uint8Array): Promise<void> {
      onWire.push(data);
      return Promise.resolve();
    },
  };
  let written = 0;
  const wt = {
    datagrams: {
      maxDatagramSize: 1150,
      writable: new WritableStream<Uint8Array>({
        write: async (chunk) => {
          written++;
          await Promise.resolve();
          const d = new Uint8Array(chunk.length + 1);
          d.set([0x00]);
          d.set(chunk, 1);
          await conn.sendDatagram(d);
        },
      }),
    },
  } as unknown as Pick<WebTransport, "datagrams">;
  const channel = datagramChannel(wt, conn, () => true);
  const packet = (i: number, n = 100 + i) => new Uint8Array(n).fill(i);
  channel.send(packet(0));
  channel.send(packet(1)); // before the first reached the connection: the writable still
  assert.equal(channel.direct, false);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(channel.direct, true);
  for (let i = 2; i < 10; i++) channel.send(packet(i));
  assert.ok(channel.bufferedAmount > 0);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(written, 2, "datagrams after the first two went through the WritableStream");
  assert.equal(onWire.length, 10);
  onWire.forEach((d, i) => {
    assert.equal(d[0], 0x00, `datagram ${i} lacks the session prefix`);
    assert.deepEqual(d.subarray(1), packet(i));
  });
  assert.equal(channel.bufferedAmount, 0);
  assert.throws(() => channel.send(new Uint8Array(1151)), RangeError);
});
