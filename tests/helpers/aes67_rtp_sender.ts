/**
 * A minimal AES67 sender for tests, run as its own process (in a box's
 * namespace): L24 multicast whose RTP timestamps follow a real clock, as a
 * PTP-locked device's do: timestamp = media time × 48 kHz (mod 2^32), media
 * time being UTC, or TAI (UTC + 37 s) with `--tai`. Every sample of channel
 * c is `first + c` (the `id` test signal).
 *
 *   deno run -A --unstable-net aes67_rtp_sender.ts GROUP PORT CHANNELS FIRST [--age-ms N] [--tai]
 *
 * `--age-ms N` stamps each packet as captured N ms before it is sent (a
 * sender with N ms of latency). Packets are 1 ms (48 frames); a packet is
 * sent as soon as its last frame's media time has passed.
 */
const [group, portText, chText, firstText, ...rest] = Deno.args;
const port = Number(portText);
const channels = Number(chText);
const first = Number(firstText);
const ageMs = rest.includes("--age-ms") ? Number(rest[rest.indexOf("--age-ms") + 1]) : 0;
const taiMs = rest.includes("--tai") ? 37_000 : 0;
const RATE = 48000;
const FRAMES = 48;
const pkt = new Uint8Array(12 + FRAMES * channels * 3);
pkt[0] = 0x80;
pkt[1] = 96;
const view = new DataView(pkt.buffer);
view.setUint32(8, 0x4145_3637);
for (let f = 0; f < FRAMES; f++) {
  for (let c = 0; c < channels; c++) pkt[12 + (f * channels + c) * 3 + 2] = first + c;
}
const conn = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
const to: Deno.NetAddr = { transport: "udp", hostname: group, port };
// Media position (frames) of the next packet: starts at a packet boundary of the clock.
let next = Math.floor(((Date.now() + taiMs - ageMs) * RATE) / 1000 / FRAMES) * FRAMES;
let seq = 0;
for (;;) {
  const due = ((Date.now() + taiMs - ageMs) * RATE) / 1000;
  while (next + FRAMES <= due) {
    view.setUint16(2, seq++ & 0xffff);
    view.setUint32(4, next % 4294967296);
    await conn.send(pkt, to);
    next += FRAMES;
  }
  await new Promise((r) => setTimeout(r, 1));
}
