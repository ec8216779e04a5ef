/**
 * SessionManager on its own (fakes in ./sessions_testkit.ts): capacity,
 * request-audio's address checks, the heartbeat sweep on a ManualClock, ending.
 * client_config: ./sessions_configure_test.ts.
 */
import assert from "node:assert/strict";
import {
  type ClientSession,
  CLOSE_ENDED_BY_SERVER,
  CLOSE_HEARTBEAT_TIMEOUT,
  CLOSE_NORMAL,
  type SessionTransport,
} from "./sessions.ts";
import { assertErrorCode, browserSender, setup } from "./sessions_testkit.ts";

// ── capacity ────────────────────────────────────────────────────────────────

Deno.test("a client past max_clients is refused with server_full, and one leaving frees its place", () => {
  const { sessions, connect } = setup({ maxClients: 2 });
  const a = connect("10.0.0.1");
  connect("10.0.0.2");
  const c = connect("10.0.0.3");
  sessions.requestAudio("10.0.0.1", 5004, a.session.id);
  sessions.requestAudio("10.0.0.2", 5004, undefined);
  assertErrorCode(
    () => sessions.requestAudio("10.0.0.3", 5004, c.session.id),
    "server_full",
    /2 of 2/,
  );
  assert.equal(c.session.udpPort, null);

  sessions.closed(a.session);
  const ok = sessions.requestAudio("10.0.0.3", 5004, c.session.id);
  assert.equal(ok.client_id, c.session.id);
});

Deno.test("connected sessions without a destination do not take a streaming place", () => {
  const { sessions, connect } = setup({ maxClients: 1 });
  for (let i = 0; i < 5; i++) connect(`10.0.1.${i}`);
  const last = connect("10.0.2.1");
  assert.equal(sessions.requestAudio("10.0.2.1", 6000, last.session.id).status, "ok");
});

Deno.test("DataChannel and WebTransport listeners count toward max_clients like UDP ports", () => {
  const { sessions, connect } = setup({ maxClients: 2 });
  const udp = connect("10.0.0.1");
  const dc = connect("10.0.0.2", "datachannel");
  const wt = connect("10.0.0.3", "webtransport");
  sessions.requestAudio("10.0.0.1", 5004, udp.session.id);
  sessions.attachSender(dc.session, browserSender());
  assertErrorCode(() => sessions.attachSender(wt.session, browserSender(1150)), "server_full");
  assert.equal(wt.session.sender, null);
  // A UDP client is refused too once browsers fill the places.
  const late = connect("10.0.0.4");
  assertErrorCode(() => sessions.requestAudio("10.0.0.4", 5004, late.session.id), "server_full");
});

Deno.test("a session that already has a destination may move it while the server is full", () => {
  const { sessions, connect, engine } = setup({ maxClients: 1 });
  const a = connect("10.0.0.1");
  sessions.requestAudio("10.0.0.1", 5004, a.session.id);
  sessions.configure(a.session, {});
  sessions.requestAudio("10.0.0.1", 5006, a.session.id);
  assert.equal(engine.streams.get(a.session.id)?.port, 5006);
  // A browser session swapping its transport (DataChannel reconnect) keeps its place too.
  const b = setup({ maxClients: 1 });
  const s = b.connect("10.0.0.2", "datachannel");
  b.sessions.attachSender(s.session, browserSender());
  b.sessions.attachSender(s.session, browserSender());
  assert.equal(b.sessions.list().length, 1);
});

// ── requestAudio ────────────────────────────────────────────────────────────

Deno.test("request-audio for another address's client_id is address_mismatch; unknown is no_session", () => {
  const { sessions, connect, engine } = setup();
  const { session } = connect("10.0.0.1");
  sessions.configure(session, {});
  assertErrorCode(
    () => sessions.requestAudio("10.0.0.66", 5004, session.id),
    "address_mismatch",
  );
  assert.equal(session.udpPort, null);
  assert.equal(engine.streams.size, 0);
  assertErrorCode(() => sessions.requestAudio("10.0.0.1", 5004, "c99-x"), "no_session");
});

Deno.test("request-audio without client_id takes the newest waiting session of that address only", () => {
  const { sessions, connect, engine } = setup();
  connect("10.0.0.1");
  const newer = connect("10.0.0.1");
  connect("10.0.0.2");
  const r = sessions.requestAudio("10.0.0.1", 5004, undefined);
  assert.equal(r.client_id, newer.session.id);
  sessions.configure(newer.session, {});
  assert.deepEqual(
    [engine.streams.get(newer.session.id)?.hostname, engine.streams.get(newer.session.id)?.port],
    ["10.0.0.1", 5004],
  );
  assertErrorCode(() => sessions.requestAudio("10.0.0.3", 5004, undefined), "no_session");
});

Deno.test("request-audio answers the SSRC and an SDP pointing at the asking port", () => {
  const { sessions, connect } = setup();
  const { session } = connect("10.0.0.1");
  const r = sessions.requestAudio("10.0.0.1", 5010, session.id);
  assert.equal(r.ssrc, session.ssrc >>> 0);
  assert.match(r.sdp, /^m=audio 5010 RTP\/AVP /m);
  assert.match(r.sdp, /^c=IN IP4 192\.0\.2\.1$/m);
});

// ── heartbeat sweep ─────────────────────────────────────────────────────────

Deno.test("a session silent for heartbeat_timeout is ended with 4000; one that pinged is kept", () => {
  const { sessions, connect, clock, engine } = setup({ heartbeatS: 30 });
  const quiet = connect("10.0.0.1");
  const alive = connect("10.0.0.2");
  for (const c of [quiet, alive]) {
    sessions.requestAudio(c.session.ip, 5004, c.session.id);
    sessions.configure(c.session, {});
  }
  assert.equal(quiet.socket.last("welcome")?.heartbeat_timeout_s, 30);
  clock.advance(20_000);
  sessions.touch(alive.session); // what a heartbeat frame does
  clock.advance(10_000);
  assert.equal(sessions.sweep(), 0, "exactly the timeout is not yet over it");
  clock.advance(1);
  assert.equal(sessions.sweep(), 1);
  assert.equal(quiet.socket.closedWith?.code, CLOSE_HEARTBEAT_TIMEOUT);
  assert.match(quiet.socket.closedWith!.reason, /no heartbeat for 30 s/);
  assert.equal(quiet.session.closed, true);
  assert.equal(engine.streams.has(quiet.session.id), false);
  assert.equal(alive.socket.closedWith?.code, undefined);
  assert.deepEqual(sessions.list().map((s) => s.id), [alive.session.id]);

  clock.advance(20_000);
  assert.equal(sessions.sweep(), 1, "the kept one times out 30 s after its own last ping");
  assert.equal(alive.socket.closedWith?.code, CLOSE_HEARTBEAT_TIMEOUT);
});

Deno.test("every contact (request-audio, attach) counts as a sign of life for the sweep", () => {
  const { sessions, connect, clock } = setup({ heartbeatS: 5 });
  const a = connect("10.0.0.1");
  const b = connect("10.0.0.2", "datachannel");
  clock.advance(4_000);
  sessions.requestAudio("10.0.0.1", 5004, a.session.id);
  sessions.attachSender(b.session, browserSender());
  clock.advance(4_000);
  assert.equal(sessions.sweep(), 0);
  clock.advance(1_001);
  assert.equal(sessions.sweep(), 2);
});

// ── ending ──────────────────────────────────────────────────────────────────

Deno.test("endAll tells every session why, closes it with 4001 and stops every stream", () => {
  const { sessions, connect, engine, streamingChanges } = setup();
  const all = [connect("10.0.0.1"), connect("10.0.0.2"), connect("10.0.0.3")];
  for (const c of all.slice(0, 2)) {
    sessions.requestAudio(c.session.ip, 5004, c.session.id);
    sessions.configure(c.session, {});
  }
  const before = streamingChanges();
  const event = { type: "config_changed", reason: "sample rate" };
  assert.equal(sessions.endAll("configuration changed", event), 3);
  for (const c of all) {
    assert.deepEqual(c.socket.last("event"), { type: "event", payload: event });
    assert.equal(c.socket.closedWith?.code, CLOSE_ENDED_BY_SERVER);
  }
  assert.equal(engine.streams.size, 0);
  assert.equal(sessions.list().length, 0);
  assert.equal(streamingChanges() - before, 2, "one change per stream that stopped");
  // An ended session sends nothing more, and ending it twice is harmless.
  const n = all[0].socket.sent.length;
  all[0].session.send({ type: "heartbeat_ack" });
  sessions.end(all[0].session, "again");
  assert.equal(all[0].socket.sent.length, n);
});

Deno.test("a client closing its WebSocket ends its session with 1000 and frees its stream", () => {
  const { sessions, connect, engine } = setup();
  const { session, socket } = connect();
  sessions.requestAudio(session.ip, 5004, session.id);
  sessions.configure(session, {});
  sessions.closed(session);
  assert.equal(socket.closedWith?.code, CLOSE_NORMAL);
  assert.equal(engine.streams.size, 0);
  assert.equal(sessions.get(session.id), undefined);
});

Deno.test("a socket that throws on send does not break the session manager", () => {
  const { sessions } = setup();
  const broken: SessionTransport = {
    send() {
      throw new Error("socket gone");
    },
    close() {
      throw new Error("socket gone");
    },
  };
  const s: ClientSession = sessions.open("10.0.0.1", broken);
  sessions.configure(s, {});
  sessions.end(s, "bye");
  assert.equal(sessions.list().length, 0);
});
