import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { type GcmAlgorithm, gcmCipher, preferredGcm } from "./dtls_gcm.ts";

function random(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** What werift seals: node:crypto, a cipher object per record. */
function nodeSeal(
  algorithm: GcmAlgorithm,
  key: Uint8Array,
  iv: Uint8Array,
  aad: Uint8Array,
  plain: Uint8Array,
): Uint8Array {
  const c = createCipheriv(algorithm, key, iv, { authTagLength: 16 });
  c.setAAD(aad, { plaintextLength: plain.length });
  const body = c.update(plain);
  c.final();
  const out = new Uint8Array(plain.length + 16);
  out.set(body);
  out.set(c.getAuthTag(), plain.length);
  return out;
}

const ALGORITHMS: [GcmAlgorithm, number][] = [["aes-128-gcm", 16], ["aes-256-gcm", 32]];

Deno.test("libcrypto is what the record path uses on this machine", () => {
  // .ci/setup installs libssl3; a machine without it falls back to node:crypto.
  assert.deepEqual(preferredGcm(), "libcrypto");
});

for (const kind of ["libcrypto", "node"] as const) {
  for (const [algorithm, keyBytes] of ALGORITHMS) {
    Deno.test(`${kind} ${algorithm}: one cipher seals record after record as node:crypto does, byte for byte`, () => {
      const key = random(keyBytes);
      const sealer = gcmCipher(algorithm, key, "seal", kind);
      const opener = gcmCipher(algorithm, key, "open", kind);
      assert.deepEqual(sealer.kind, kind);
      const plain = new Uint8Array(1300);
      const out = new Uint8Array(1300 + 16);
      const back = new Uint8Array(1300);
      const record = new Uint8Array(21 + 1300 + 16);
      // Lengths of a SACK, audio packets, one byte, a full SCTP packet; a new nonce each time.
      for (const length of [28, 1188, 1, 0, 333, 1191, 16, 17, 1300, 64, 65]) {
        const iv = random(12);
        const aad = random(13);
        plain.set(random(length));
        sealer.seal(iv, aad, plain, length, out);
        const want = nodeSeal(algorithm, key, iv, aad, plain.subarray(0, length));
        assert.deepEqual(out.subarray(0, length + 16), want, `length ${length}`);
        // Opened from inside a datagram, as the record path reads it (after 21 header bytes).
        record.set(want, 21);
        assert(opener.open(iv, aad, record, 21, 21 + length + 16, back), `length ${length}`);
        assert.deepEqual(back.subarray(0, length), plain.subarray(0, length));
      }
      sealer.close();
      opener.close();
    });

    Deno.test(`${kind} ${algorithm}: an altered record, tag, header or key does not open`, () => {
      const key = random(keyBytes);
      const opener = gcmCipher(algorithm, key, "open", kind);
      const iv = random(12);
      const aad = random(13);
      const plain = random(200);
      const sealed = nodeSeal(algorithm, key, iv, aad, plain);
      const out = new Uint8Array(200);
      assert(opener.open(iv, aad, sealed, 0, sealed.length, out));
      for (const at of [0, 57, 199, 200, 215]) { // ciphertext bytes, then tag bytes
        const bad = sealed.slice();
        bad[at] ^= 0x01;
        assert.ok(!opener.open(iv, aad, bad, 0, bad.length, out), `byte ${at} flipped`);
      }
      const badAad = aad.slice();
      badAad[12] ^= 0x80; // the record's length in the header
      assert.ok(!opener.open(iv, badAad, sealed, 0, sealed.length, out));
      const badIv = iv.slice();
      badIv[11] ^= 1; // another sequence number
      assert.ok(!opener.open(badIv, aad, sealed, 0, sealed.length, out));
      const other = gcmCipher(algorithm, random(keyBytes), "open", kind);
      assert.ok(!other.open(iv, aad, sealed, 0, sealed.length, out));
      // Shorter than a tag: nothing to open.
      assert.ok(!opener.open(iv, aad, sealed, 0, 15, out));
      // And the good record still opens after the failures (the context is reusable).
      assert(opener.open(iv, aad, sealed, 0, sealed.length, out));
      assert.deepEqual(out, plain);
      opener.close();
      other.close();
    });
  }
}

Deno.test("libcrypto: a key of the wrong size, a closed cipher and the wrong direction are errors", () => {
  assert.throws(() => gcmCipher("aes-128-gcm", random(32), "seal", "libcrypto"), RangeError);
  const c = gcmCipher("aes-128-gcm", random(16), "seal", "libcrypto");
  const out = new Uint8Array(40);
  assert.throws(() => c.open(random(12), random(13), out, 0, 40, out));
  c.close();
  c.close();
  assert.throws(() => c.seal(random(12), random(13), out, 8, out));
});
