/**
 * AES-GCM for DTLS 1.2 records (RFC 5288), one long-lived cipher per key:
 * the DataChannel's record path (./sctp_tuning.ts) seals and opens a record
 * per audio packet and per SACK.
 *
 * With OpenSSL's libcrypto (../../ffi/libcrypto.ts) one EVP_CIPHER_CTX holds
 * the key schedule for the association's life; a record only sets its nonce,
 * feeds the AAD and the bytes, and reads or checks the tag — into buffers the
 * caller reuses, so nothing is allocated per record. Without the library (or
 * with `M32_DTLS_CRYPTO=node`, for A/B measurements) node:crypto does the same
 * work with a cipher object per record, as werift does.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { Buffer } from "node:buffer";
import {
  EVP_CTRL_GCM_GET_TAG,
  EVP_CTRL_GCM_SET_TAG,
  libcrypto,
  type LibcryptoSymbols,
} from "../../ffi/libcrypto.ts";

export type GcmAlgorithm = "aes-128-gcm" | "aes-256-gcm";
export const GCM_TAG_BYTES = 16;
export const GCM_IV_BYTES = 12;

/** Seals (encrypts and tags) or opens (checks and decrypts) records under one key. */
export interface RecordCipher {
  readonly kind: "libcrypto" | "node";
  /**
   * Encrypts `plain[0, length)` with nonce `iv` (12 bytes) and additional data
   * `aad`: the ciphertext goes to `out[0, length)`, the tag to
   * `out[length, length + 16)`.
   */
  seal(iv: Uint8Array, aad: Uint8Array, plain: Uint8Array, length: number, out: Uint8Array): void;
  /**
   * Opens `record[start, end)` — ciphertext followed by its 16-byte tag — into
   * `out[0, end − start − 16)`. False when the tag does not match (the record
   * was altered, or sealed under another key or nonce); `out` is then garbage.
   */
  open(
    iv: Uint8Array,
    aad: Uint8Array,
    record: Uint8Array,
    start: number,
    end: number,
    out: Uint8Array,
  ): boolean;
  /** Frees the native context (also done when the cipher is collected). */
  close(): void;
}

/** Which implementation `gcmCipher` picks: libcrypto unless told otherwise or missing. */
export function preferredGcm(): "libcrypto" | "node" {
  if (forced !== undefined) return forced;
  try {
    if (Deno.env.get("M32_DTLS_CRYPTO") === "node") return forced = "node";
  } catch { /* no env permission: the default */ }
  try {
    libcrypto();
    return forced = "libcrypto";
  } catch {
    return forced = "node";
  }
}
let forced: "libcrypto" | "node" | undefined;

/** A cipher for `key` in one direction: libcrypto when it loads, else node:crypto. */
export function gcmCipher(
  algorithm: GcmAlgorithm,
  key: Uint8Array,
  direction: "seal" | "open",
  kind: "libcrypto" | "node" = preferredGcm(),
): RecordCipher {
  return kind === "libcrypto"
    ? new EvpGcm(libcrypto(), algorithm, key, direction)
    : new NodeGcm(algorithm, key);
}

// ---------------------------------------------------------------------------

const contexts = new FinalizationRegistry<{ lib: LibcryptoSymbols; ctx: Deno.PointerObject }>(
  ({ lib, ctx }) => lib.EVP_CIPHER_CTX_free(ctx),
);

/** Bytes copied into the scratch by a loop rather than `subarray` + `set` (no view object). */
const LOOP_COPY_MAX = 64;

class EvpGcm implements RecordCipher {
  readonly kind = "libcrypto";
  private ctx: Deno.PointerObject | null;
  private readonly outLen = new Int32Array(1);
  private readonly tag = new Uint8Array(GCM_TAG_BYTES);
  private readonly fin = new Uint8Array(GCM_TAG_BYTES);
  /** The ciphertext being opened, copied out of the datagram. */
  private input = new Uint8Array(2048);
  private readonly token = {};

  constructor(
    private readonly lib: LibcryptoSymbols,
    algorithm: GcmAlgorithm,
    key: Uint8Array,
    private readonly direction: "seal" | "open",
  ) {
    const want = algorithm === "aes-128-gcm" ? 16 : 32;
    if (key.length !== want) {
      throw new RangeError(`${algorithm} needs a ${want}-byte key, got ${key.length}`);
    }
    const cipher = algorithm === "aes-128-gcm" ? lib.EVP_aes_128_gcm() : lib.EVP_aes_256_gcm();
    const ctx = lib.EVP_CIPHER_CTX_new();
    if (!ctx || !cipher) throw new Error("libcrypto: EVP_CIPHER_CTX_new failed");
    const init = direction === "seal" ? lib.EVP_EncryptInit_ex : lib.EVP_DecryptInit_ex;
    if (init(ctx, cipher, null, key, null) !== 1) {
      lib.EVP_CIPHER_CTX_free(ctx);
      throw new Error(`libcrypto: cannot set up ${algorithm}`);
    }
    this.ctx = ctx;
    contexts.register(this, { lib, ctx }, this.token);
  }

  seal(iv: Uint8Array, aad: Uint8Array, plain: Uint8Array, length: number, out: Uint8Array): void {
    const lib = this.lib;
    const ctx = this.live("seal");
    const n = this.outLen;
    if (
      lib.EVP_EncryptInit_ex(ctx, null, null, null, iv) !== 1 ||
      lib.EVP_EncryptUpdate(ctx, null, n, aad, aad.length) !== 1 ||
      lib.EVP_EncryptUpdate(ctx, out, n, plain, length) !== 1 || n[0] !== length ||
      lib.EVP_EncryptFinal_ex(ctx, this.fin, n) !== 1 ||
      lib.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG_BYTES, this.tag) !== 1
    ) {
      throw new Error("libcrypto: AES-GCM sealing failed");
    }
    out.set(this.tag, length);
  }

  open(
    iv: Uint8Array,
    aad: Uint8Array,
    record: Uint8Array,
    start: number,
    end: number,
    out: Uint8Array,
  ): boolean {
    const lib = this.lib;
    const ctx = this.live("open");
    const length = end - start - GCM_TAG_BYTES;
    if (length < 0 || out.length < length) return false;
    if (this.input.length < length) this.input = new Uint8Array(length);
    const input = this.input;
    if (length <= LOOP_COPY_MAX) {
      for (let i = 0; i < length; i++) input[i] = record[start + i];
    } else {
      input.set(record.subarray(start, start + length));
    }
    const tag = this.tag;
    for (let i = 0, at = start + length; i < GCM_TAG_BYTES; i++) tag[i] = record[at + i];
    const n = this.outLen;
    return lib.EVP_DecryptInit_ex(ctx, null, null, null, iv) === 1 &&
      lib.EVP_DecryptUpdate(ctx, null, n, aad, aad.length) === 1 &&
      lib.EVP_DecryptUpdate(ctx, out, n, input, length) === 1 && n[0] === length &&
      lib.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG_BYTES, tag) === 1 &&
      lib.EVP_DecryptFinal_ex(ctx, this.fin, n) === 1;
  }

  close(): void {
    if (!this.ctx) return;
    contexts.unregister(this.token);
    this.lib.EVP_CIPHER_CTX_free(this.ctx);
    this.ctx = null;
  }

  private live(what: "seal" | "open"): Deno.PointerObject {
    if (what !== this.direction) throw new Error(`this cipher was set up to ${this.direction}`);
    if (!this.ctx) throw new Error("the cipher is closed");
    return this.ctx;
  }
}

/** node:crypto: a cipher object per record (the fallback). */
class NodeGcm implements RecordCipher {
  readonly kind = "node";
  private readonly key: Buffer;
  constructor(private readonly algorithm: GcmAlgorithm, key: Uint8Array) {
    this.key = Buffer.from(key);
  }

  seal(iv: Uint8Array, aad: Uint8Array, plain: Uint8Array, length: number, out: Uint8Array): void {
    const gcm = createCipheriv(this.algorithm, this.key, iv, { authTagLength: GCM_TAG_BYTES });
    gcm.setAAD(aad, { plaintextLength: length });
    const body = gcm.update(plain.subarray(0, length));
    const rest = gcm.final();
    out.set(body, 0);
    out.set(rest, body.length);
    out.set(gcm.getAuthTag(), length);
  }

  open(
    iv: Uint8Array,
    aad: Uint8Array,
    record: Uint8Array,
    start: number,
    end: number,
    out: Uint8Array,
  ): boolean {
    const length = end - start - GCM_TAG_BYTES;
    if (length < 0 || out.length < length) return false;
    try {
      const gcm = createDecipheriv(this.algorithm, this.key, iv, { authTagLength: GCM_TAG_BYTES });
      gcm.setAuthTag(record.subarray(start + length, end));
      gcm.setAAD(aad, { plaintextLength: length });
      const body = gcm.update(record.subarray(start, start + length));
      const rest = gcm.final();
      out.set(body, 0);
      out.set(rest, body.length);
      return true;
    } catch {
      return false;
    }
  }

  close(): void {}
}
