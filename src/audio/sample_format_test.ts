import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import {
  firstAccepted,
  fromLeftJustifiedInt32,
  type SampleFormatName,
  toLeftJustifiedInt32,
} from "./sample_format.ts";

function convert(format: SampleFormatName, bytes: number[]): number[] {
  const bpf = { S32_LE: 4, S24_3LE: 3, S16_LE: 2 }[format];
  const n = bytes.length / bpf;
  const dst = new Int32Array(n);
  toLeftJustifiedInt32(format, new Uint8Array(bytes), dst, n);
  return [...dst];
}

Deno.test("S24_3LE bytes become sign-extended samples shifted left by 8", () => {
  // 0x123456, -1 (0xffffff), -0x800000 (most negative), 1
  const out = convert("S24_3LE", [0x56, 0x34, 0x12, 0xff, 0xff, 0xff, 0, 0, 0x80, 1, 0, 0]);
  assertEquals(out, [0x123456 << 8, -1 << 8, -0x800000 << 8, 1 << 8]);
  assertEquals(out.map((s) => s >> 8), [0x123456, -1, -0x800000, 1]);
});

Deno.test("S16_LE bytes become samples shifted left by 16 so L16 = sample >> 16", () => {
  const out = convert("S16_LE", [0x34, 0x12, 0xff, 0xff, 0x00, 0x80]);
  assertEquals(out.map((s) => s >> 16), [0x1234, -1, -0x8000]);
  assertEquals(out[0] & 0xffff, 0);
});

Deno.test("S32_LE bytes are copied unchanged, aligned or not", () => {
  const raw = [0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0x80];
  assertEquals(convert("S32_LE", raw), [0x12345678, -0x80000000]);
  const unaligned = new Uint8Array(9);
  unaligned.set(raw, 1);
  const dst = new Int32Array(2);
  toLeftJustifiedInt32("S32_LE", unaligned.subarray(1), dst, 2);
  assertEquals([...dst], [0x12345678, -0x80000000]);
});

Deno.test("writing then reading each format round-trips the bits the format carries", () => {
  const samples = Int32Array.from([0x7fffff00, -0x100, 0x12345600, -0x80000000, 0x10000]);
  for (const format of ["S32_LE", "S24_3LE", "S16_LE"] as const) {
    const bytes = new Uint8Array(samples.length * 4);
    fromLeftJustifiedInt32(format, samples, bytes, samples.length);
    const back = new Int32Array(samples.length);
    toLeftJustifiedInt32(format, bytes, back, samples.length);
    const mask = format === "S32_LE" ? -1 : format === "S24_3LE" ? ~0xff : ~0xffff;
    assertEquals([...back], [...samples].map((s) => s & mask), format);
  }
});

Deno.test("conversion names both byte counts when the source is too short", () => {
  assertThrows(
    () => toLeftJustifiedInt32("S24_3LE", new Uint8Array(5), new Int32Array(2), 2),
    /need 6 bytes, got 5/,
  );
});

Deno.test("negotiation takes the first candidate the device accepts", () => {
  assertEquals(firstAccepted([32, 16, 8, 2], (c) => c <= 16), 16);
  assertEquals(firstAccepted([32, 16], () => false), null);
});
