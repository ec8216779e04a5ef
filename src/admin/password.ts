/**
 * The admin password: scrypt (RFC 7914) through node:crypto, salted, stored
 * as one self-describing string in the `meta` table:
 *
 *   scrypt$<log2 N>$<r>$<p>$<salt, base64>$<key, base64>
 *
 * On first start with no stored hash, M32_ADMIN_PASSWORD (or the server's
 * `adminPassword` option) sets it; otherwise a random password is generated
 * and printed once to the log at warn level. It is never logged again.
 */
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from "node:crypto";
import type { ConfigStore } from "../config/store.ts";
import { logConfig, type Logger } from "../util/log.ts";

export const PASSWORD_META_KEY = "admin_password_hash";
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;

const SCHEME = "scrypt";
/** N = 2^15 (OWASP's floor for scrypt), r = 8, p = 1: 32 MiB and ~0.1 s per hash. */
export const SCRYPT_LOG2_N = 15;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** scrypt needs 128·N·r bytes; node's default cap is exactly that, so give it room. */
const SCRYPT_MAXMEM = 256 * 1024 * 1024;

/** Unambiguous characters for generated passwords (no 0/O, 1/l/I). */
const GENERATED_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const GENERATED_LENGTH = 20;

interface ScryptParams {
  log2N: number;
  r: number;
  p: number;
}

function scryptOptions(p: ScryptParams) {
  return { N: 2 ** p.log2N, r: p.r, p: p.p, maxmem: SCRYPT_MAXMEM };
}

function encode(p: ScryptParams, salt: Uint8Array, key: Uint8Array): string {
  const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
  return [SCHEME, p.log2N, p.r, p.p, b64(salt), b64(key)].join("$");
}

function decode(stored: string): { params: ScryptParams; salt: Uint8Array; key: Uint8Array } {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== SCHEME) {
    throw new RangeError(`stored admin password hash has ${parts.length} fields, expected 6`);
  }
  const unb64 = (s: string) => Uint8Array.from(atob(s), (ch) => ch.charCodeAt(0));
  return {
    params: { log2N: Number(parts[1]), r: Number(parts[2]), p: Number(parts[3]) },
    salt: unb64(parts[4]),
    key: unb64(parts[5]),
  };
}

const DEFAULT_PARAMS: ScryptParams = { log2N: SCRYPT_LOG2_N, r: SCRYPT_R, p: SCRYPT_P };

/** Hashes synchronously (start-up only: it blocks for ~0.1 s). */
export function hashPasswordSync(password: string, params = DEFAULT_PARAMS): string {
  const salt = randomBytes(SALT_BYTES);
  const key = scryptSync(password, salt, KEY_BYTES, scryptOptions(params));
  return encode(params, salt, key);
}

function scryptAsync(password: string, salt: Uint8Array, len: number, p: ScryptParams) {
  return new Promise<Uint8Array>((resolve, reject) => {
    scrypt(password, salt, len, scryptOptions(p), (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string, params = DEFAULT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  return encode(params, salt, await scryptAsync(password, salt, KEY_BYTES, params));
}

/** Constant-time check of `password` against a stored hash string. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const { params, salt, key } = decode(stored);
  const got = await scryptAsync(password, salt, key.length, params);
  return got.length === key.length && timingSafeEqual(got, key);
}

/** A random password from an unambiguous alphabet (≈116 bits). */
export function generatePassword(length = GENERATED_LENGTH): string {
  const out: string[] = [];
  // Rejection sampling keeps every character equally likely.
  const limit = 256 - (256 % GENERATED_ALPHABET.length);
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < limit && out.length < length) {
        out.push(GENERATED_ALPHABET[b % GENERATED_ALPHABET.length]);
      }
    }
  }
  return out.join("");
}

export interface BootstrapOptions {
  /** The first password when none is stored (M32_ADMIN_PASSWORD). */
  initialPassword?: string;
  log: Logger;
  /** Hash parameters (tests use a cheaper N). */
  params?: ScryptParams;
}

/**
 * Makes sure a password hash is stored. Returns how it was set: "stored"
 * (already there), "given" (from the option/env) or "generated" (printed once).
 */
export function bootstrapPassword(
  store: ConfigStore,
  opts: BootstrapOptions,
): "stored" | "given" | "generated" {
  if (store.getMeta(PASSWORD_META_KEY)) return "stored";
  const given = opts.initialPassword;
  if (given !== undefined && given !== "") {
    if (given.length < MIN_PASSWORD_LENGTH) {
      throw new RangeError(
        `M32_ADMIN_PASSWORD needs at least ${MIN_PASSWORD_LENGTH} characters, got ${given.length}`,
      );
    }
    store.setMeta(PASSWORD_META_KEY, hashPasswordSync(given, opts.params));
    opts.log.info("admin password set from M32_ADMIN_PASSWORD");
    return "given";
  }
  const password = generatePassword();
  store.setMeta(PASSWORD_META_KEY, hashPasswordSync(password, opts.params));
  opts.log.warn("admin password generated; it is shown only this once, change it on /admin/", {
    password,
  });
  // Keep the clear text out of the ring the admin page shows.
  const i = logConfig.recent.findIndex((r) => r.fields.password === password);
  if (i >= 0) logConfig.recent.splice(i, 1);
  return "generated";
}
