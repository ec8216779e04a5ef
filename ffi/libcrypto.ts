/**
 * Raw Deno FFI bindings to OpenSSL 3's libcrypto (Debian package `libssl3`,
 * `libssl3t64` on Debian 13): the EVP AEAD calls that seal and open DTLS
 * records with AES-GCM (src/listener/dtls_gcm.ts).
 *
 * One EVP_CIPHER_CTX is set up once with the cipher and key; each record only
 * re-initialises it with its nonce (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL,
 * iv)), so sealing a record allocates nothing, where node:crypto builds a
 * cipher object (a Transform stream in Deno) per record.
 *
 * The library is opened on first use, so importing this module never fails;
 * `libcrypto()` throws an Error naming the package when it cannot be opened.
 */
import { lazyLibrary } from "./load.ts";

export const LIBCRYPTO_PACKAGE = "libssl3";
export const LIBCRYPTO_SONAMES = ["libcrypto.so.3"] as const;

/** <openssl/evp.h>: EVP_CIPHER_CTX_ctrl commands of the GCM mode. */
export const EVP_CTRL_GCM_SET_IVLEN = 0x9;
export const EVP_CTRL_GCM_GET_TAG = 0x10;
export const EVP_CTRL_GCM_SET_TAG = 0x11;

const SYMBOLS = {
  /** EVP_CIPHER_CTX *EVP_CIPHER_CTX_new(void) */
  EVP_CIPHER_CTX_new: { parameters: [], result: "pointer" },
  /** void EVP_CIPHER_CTX_free(EVP_CIPHER_CTX *ctx) */
  EVP_CIPHER_CTX_free: { parameters: ["pointer"], result: "void" },
  /** const EVP_CIPHER *EVP_aes_128_gcm(void) */
  EVP_aes_128_gcm: { parameters: [], result: "pointer" },
  /** const EVP_CIPHER *EVP_aes_256_gcm(void) */
  EVP_aes_256_gcm: { parameters: [], result: "pointer" },
  /**
   * int EVP_EncryptInit_ex(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *type,
   *                        ENGINE *impl, const unsigned char *key, const unsigned char *iv)
   */
  EVP_EncryptInit_ex: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer"],
    result: "i32",
  },
  EVP_DecryptInit_ex: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer"],
    result: "i32",
  },
  /** int EVP_EncryptUpdate(EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl, const unsigned char *in, int inl) */
  EVP_EncryptUpdate: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "i32"],
    result: "i32",
  },
  EVP_DecryptUpdate: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "i32"],
    result: "i32",
  },
  /** int EVP_EncryptFinal_ex(EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl) */
  EVP_EncryptFinal_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  /** Returns 1 only when the tag set with EVP_CTRL_GCM_SET_TAG matches. */
  EVP_DecryptFinal_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  /** int EVP_CIPHER_CTX_ctrl(EVP_CIPHER_CTX *ctx, int type, int arg, void *ptr) */
  EVP_CIPHER_CTX_ctrl: { parameters: ["pointer", "i32", "i32", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

export type LibcryptoSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** Opens libcrypto on first call; throws an Error naming the Debian package if it cannot. */
export const libcrypto: () => LibcryptoSymbols = lazyLibrary(
  "OpenSSL's libcrypto",
  LIBCRYPTO_SONAMES,
  LIBCRYPTO_PACKAGE,
  SYMBOLS,
);
