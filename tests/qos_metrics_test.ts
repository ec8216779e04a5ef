/**
 * `/qos-metrics` acceptance against the real server (contract §3): a report is
 * accepted only for a client that has a session and only from that session's
 * own address; more than 10 a second from one address get 429. The second
 * address is 127.0.0.2 (all of 127/8 is loopback on Linux), reached with a
 * socket bound to it. The server runs on a ManualClock so "within a second"
 * does not depend on how fast this machine is.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { startTestServer } from "./helpers/server.ts";
import { Probe } from "./helpers/probe.ts";
import { ManualClock } from "../src/util/clock.ts";

function report(clientId: string) {
  return JSON.stringify({
    client_id: clientId,
    timestamp: new Date().toISOString(),
    metrics: {
      packets_received: 100,
      packets_expected: 100,
      packet_loss_rate: 0,
      jitter_ms: 0.5,
      latency_ms: 900,
      bandwidth_mbps: 1,
    },
  });
}

/** POSTs `body` to `path` over HTTP/1.1 from a socket bound to `from`; status and JSON body. */
function postFrom(
  from: string,
  port: number,
  path: string,
  body: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const sock = net.connect({ host: "127.0.0.1", port, localAddress: from }, () => {
      const bytes = new TextEncoder().encode(body);
      sock.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${bytes.length}\r\nConnection: close\r\n\r\n`,
      );
      sock.write(bytes);
    });
    sock.on("data", (d: Uint8Array) => chunks.push(d));
    sock.on("error", reject);
    sock.on("end", () => {
      const text = new TextDecoder().decode(
        chunks.reduce((a, b) => {
          const c = new Uint8Array(a.length + b.length);
          c.set(a);
          c.set(b, a.length);
          return c;
        }, new Uint8Array()),
      );
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      const raw = text.slice(text.indexOf("\r\n\r\n") + 4);
      // Chunked or not, the JSON object is the text between the outer braces.
      const json = JSON.parse(raw.slice(raw.indexOf("{"), raw.lastIndexOf("}") + 1));
      resolve({ status, json });
    });
  });
}

Deno.test("/qos-metrics: another address gets 403 wrong_address, an unknown client 404, the 11th report in a second 429", async () => {
  const clock = new ManualClock();
  const srv = await startTestServer({ clock });
  const probe = await Probe.connect(srv.url);
  try {
    const stolen = await postFrom(
      "127.0.0.2",
      srv.httpPort,
      "/qos-metrics",
      report(probe.clientId),
    );
    assert.equal(stolen.status, 403);
    assert.equal((stolen.json.error as { code: string }).code, "wrong_address");
    assert.equal(srv.ctx.sessions.get(probe.clientId)?.qos, null, "not stored");

    const unknown = await postFrom("127.0.0.1", srv.httpPort, "/qos-metrics", report("c99-x"));
    assert.equal(unknown.status, 404);
    assert.equal((unknown.json.error as { code: string }).code, "unknown_client");

    clock.advance(1000);
    for (let i = 1; i <= 10; i++) {
      const ok = await postFrom("127.0.0.1", srv.httpPort, "/qos-metrics", report(probe.clientId));
      assert.equal(ok.status, 200, `report ${i}: ${JSON.stringify(ok.json)}`);
      assert.equal(ok.json.status, "ok");
    }
    const flood = await postFrom("127.0.0.1", srv.httpPort, "/qos-metrics", report(probe.clientId));
    assert.equal(flood.status, 429);
    assert.equal((flood.json.error as { code: string }).code, "too_many_requests");
    const other = await postFrom("127.0.0.2", srv.httpPort, "/qos-metrics", report(probe.clientId));
    assert.equal(other.status, 403, "the limit is per address: 127.0.0.2 is still only refused");

    clock.advance(1000);
    const later = await postFrom("127.0.0.1", srv.httpPort, "/qos-metrics", report(probe.clientId));
    assert.equal(later.status, 200, "served again a second later");
    assert.equal(srv.ctx.sessions.get(probe.clientId)?.qos?.metrics.latency_ms, 900);
  } finally {
    await probe.close();
    await srv.stop();
  }
});
