import assert from "node:assert/strict";
import { resolveAes67Input } from "./input.ts";
import { SapDirectory } from "./sap_listener.ts";
import { sapPacket, streamSdp } from "./sap_test_packets.ts";

function heard(...sdps: string[]) {
  const d = new SapDirectory();
  for (const s of sdps) d.handle(sapPacket(s), 0);
  return { find: (w: string) => d.find(w, 0) };
}

const A1 = streamSdp({
  name: "box A 1",
  sessionId: 1,
  group: "239.69.83.1",
  channels: 8,
  labels: ["1", "2", "3", "4", "5", "6", "7", "8"],
  mediaclk: 100,
});
const A2 = streamSdp({
  name: "box A 2",
  sessionId: 2,
  group: "239.69.83.2",
  channels: 2,
  labels: ["Vox", "Gtr"],
  encoding: "L16",
});

Deno.test("a sender's name gives all its streams in order, channels numbered through them", () => {
  const r = resolveAes67Input("box A", heard(A2, A1));
  assert.equal(r.from, "sap");
  assert.deepEqual(r.streams.map((s) => [s.group, s.channels, s.encoding, s.mediaclkOffset]), [
    ["239.69.83.1", 8, "L24", 100],
    ["239.69.83.2", 2, "L16", 0],
  ]);
  assert.deepEqual(r.channels.slice(7), [{ id: 8, label: "8" }, { id: 9, label: "Vox" }, {
    id: 10,
    label: "Gtr",
  }]);
});

Deno.test("one stream's whole s= line gives that stream only", () => {
  const r = resolveAes67Input("box A 2", heard(A1, A2));
  assert.deepEqual(r.streams.map((s) => s.name), ["box A 2"]);
});

Deno.test("an SDP file path is read; a missing file or an unheard name says what was looked for", () => {
  const files: Record<string, string> = { "/etc/m32/a.sdp": A1 };
  const read = (p: string) => {
    if (!(p in files)) throw new Deno.errors.NotFound(p);
    return files[p];
  };
  const r = resolveAes67Input("/etc/m32/a.sdp", heard(), read);
  assert.equal(r.from, "file");
  assert.equal(r.streams[0].group, "239.69.83.1");
  assert.throws(
    () => resolveAes67Input("/nope.sdp", heard(), read),
    /not heard on SAP and no file/,
  );
  assert.throws(() => resolveAes67Input("box B", heard(A1), read), /"box B" not heard on SAP/);
  assert.throws(() => resolveAes67Input("box A", null, read), /SAP listener is not running/);
  assert.throws(() => resolveAes67Input(" ", heard(A1), read), /no AES67 session/);
  files["/bad.sdp"] = "hello";
  assert.throws(() => resolveAes67Input("/bad.sdp", heard(), read), /SDP file \/bad.sdp: .*v=0/);
  files["/uni.sdp"] = A1.replace("239.69.83.1/15", "10.0.0.5");
  assert.throws(() => resolveAes67Input("/uni.sdp", heard(), read), /not a multicast group/);
  files["/opus.sdp"] = A1.replace("L24/48000/8", "opus/48000/2");
  assert.throws(() => resolveAes67Input("/opus.sdp", heard(), read), /no L24\/L16 audio stream/);
});

Deno.test("the box's own output, heard back on SAP, is refused (it would feed the box its own audio)", () => {
  const own = streamSdp({
    name: "me 1",
    sessionId: 9,
    origin: "10.9.9.9",
    group: "239.1.1.9",
    channels: 2,
  });
  const sap = heard(own, A1);
  assert.throws(
    () => resolveAes67Input("me", sap, undefined, () => ["10.9.9.9"]),
    /this box's own output \(origin 10\.9\.9\.9\)/,
  );
  // Another sender is still taken (A1's origin is 10.0.0.2).
  assert.equal(resolveAes67Input("box A 1", sap, undefined, () => ["10.9.9.9"]).streams.length, 1);
});
