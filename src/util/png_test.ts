import assert from "node:assert/strict";
import { crc32, encodePng } from "./png.ts";

async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  const s = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("deflate"),
  );
  return new Uint8Array(await new Response(s).arrayBuffer());
}

Deno.test("crc32 matches the PNG specification's check values", () => {
  // The CRC of the IEND chunk's type is in every PNG file: AE 42 60 82.
  assert.equal(crc32(new TextEncoder().encode("IEND")), 0xae426082);
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926); // the CRC-32 check value
});

Deno.test("a PNG is signature, IHDR, IDAT and IEND with the pixels row by row behind filter 0", async () => {
  const rgba = Uint8Array.from([
    ...[255, 0, 0, 255, 0, 255, 0, 128],
    ...[0, 0, 255, 0, 1, 2, 3, 4],
  ]);
  const png = await encodePng(2, 2, rgba);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const v = new DataView(png.buffer);
  const chunks: { type: string; data: Uint8Array }[] = [];
  for (let at = 8; at < png.length;) {
    const len = v.getUint32(at);
    const type = new TextDecoder().decode(png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + len);
    assert.equal(v.getUint32(at + 8 + len), crc32(png.subarray(at + 4, at + 8 + len)), type);
    chunks.push({ type, data });
    at += 12 + len;
  }
  assert.deepEqual(chunks.map((c) => c.type), ["IHDR", "IDAT", "IEND"]);
  const ihdr = new DataView(chunks[0].data.buffer, chunks[0].data.byteOffset);
  assert.equal(ihdr.getUint32(0), 2);
  assert.equal(ihdr.getUint32(4), 2);
  assert.deepEqual([...chunks[0].data.subarray(8)], [8, 6, 0, 0, 0]);
  const raw = await inflate(chunks[1].data);
  assert.deepEqual([...raw], [0, ...rgba.subarray(0, 8), 0, ...rgba.subarray(8)]);
});

Deno.test("a PNG refuses a pixel buffer of the wrong length, saying both numbers", async () => {
  await assert.rejects(() => encodePng(2, 2, new Uint8Array(15)), /needs 16 bytes, got 15/);
  await assert.rejects(() => encodePng(0, 2, new Uint8Array(0)), RangeError);
});
