/**
 * A minimal PNG writer (ISO/IEC 15948, RFC 2083): 8-bit RGBA, no interlace,
 * filter type 0 on every row, one zlib stream in one IDAT chunk. Enough for
 * the icons the server draws itself (src/listener/icons.ts), with no image
 * library and no binary file in the source tree.
 *
 *   PNG file   = signature (8 bytes) · IHDR · IDAT · IEND
 *   chunk      = length (u32 BE, data only) · type (4 ASCII) · data · CRC-32 (type + data)
 *   IHDR data  = width u32 · height u32 · bit depth 8 · colour type 6 (RGBA)
 *                · compression 0 · filter 0 · interlace 0          (13 bytes)
 *   IDAT data  = zlib(for each row: filter byte 0 · width × RGBA)
 */

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const IHDR_BYTES = 13;
const BIT_DEPTH = 8;
const COLOUR_RGBA = 6;
const FILTER_NONE = 0;
const CHUNK_OVERHEAD = 12; // length + type + CRC
const RGBA = 4;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309, as PNG uses it) of `bytes`. */
export function crc32(bytes: Uint8Array, crc = 0xffffffff): number {
  let c = crc;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

async function zlib(data: Uint8Array): Promise<Uint8Array> {
  // "deflate" is the zlib format (RFC 1950), which IDAT carries.
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("deflate"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function chunk(out: Uint8Array, at: number, type: string, data: Uint8Array): number {
  const v = new DataView(out.buffer, out.byteOffset);
  v.setUint32(at, data.length);
  for (let i = 0; i < 4; i++) out[at + 4 + i] = type.charCodeAt(i);
  out.set(data, at + 8);
  v.setUint32(at + 8 + data.length, crc32(out.subarray(at + 4, at + 8 + data.length)));
  return at + CHUNK_OVERHEAD + data.length;
}

/** A PNG of `width × height` pixels from `rgba` (row-major, 4 bytes a pixel). */
export async function encodePng(
  width: number,
  height: number,
  rgba: Uint8Array,
): Promise<Uint8Array> {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`PNG size must be positive whole pixels, got ${width}×${height}`);
  }
  if (rgba.length !== width * height * RGBA) {
    throw new RangeError(
      `PNG of ${width}×${height} needs ${width * height * RGBA} bytes, got ${rgba.length}`,
    );
  }
  const row = width * RGBA;
  const raw = new Uint8Array((row + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (row + 1)] = FILTER_NONE;
    raw.set(rgba.subarray(y * row, (y + 1) * row), y * (row + 1) + 1);
  }
  const idat = await zlib(raw);
  const ihdr = new Uint8Array(IHDR_BYTES);
  const h = new DataView(ihdr.buffer);
  h.setUint32(0, width);
  h.setUint32(4, height);
  ihdr[8] = BIT_DEPTH;
  ihdr[9] = COLOUR_RGBA;
  const out = new Uint8Array(SIGNATURE.length + 3 * CHUNK_OVERHEAD + IHDR_BYTES + idat.length);
  out.set(SIGNATURE);
  let at = chunk(out, SIGNATURE.length, "IHDR", ihdr);
  at = chunk(out, at, "IDAT", idat);
  chunk(out, at, "IEND", new Uint8Array(0));
  return out;
}
