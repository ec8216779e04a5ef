/**
 * DSCP marking (RFC 2474 §3): the 6-bit codepoint sits in the upper bits of
 * the IPv4 TOS octet, the lower 2 bits are ECN (RFC 3168) and stay 0.
 *
 *   0   1   2   3   4   5   6   7
 * +---+---+---+---+---+---+---+---+
 * |         DSCP          |  ECN  |   EF (46) → 0b101110_00 = 0xB8
 * +---+---+---+---+---+---+---+---+
 *
 * Applied with setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, 4) via ../../ffi/libc.ts.
 */

import { errno, IP_TOS, IPPROTO_IP, libc, strerror } from "../../ffi/libc.ts";

export const DSCP_MAX = 63;
export const DSCP_EF = 46;
const ECN_BITS = 2;
const INT_BYTES = 4;

/** Validates a DSCP value and returns its TOS octet. */
export function dscpToTos(dscp: number): number {
  if (!Number.isInteger(dscp) || dscp < 0 || dscp > DSCP_MAX) {
    throw new RangeError(`DSCP must be an integer 0..${DSCP_MAX}, got ${dscp}`);
  }
  return dscp << ECN_BITS;
}

/** Sets IP_TOS = dscp << 2 on the socket `fd`. */
export function setDscp(fd: number, dscp: number): void {
  const tos = dscpToTos(dscp);
  const val = new Int32Array([tos]);
  const rc = libc().setsockopt(fd, IPPROTO_IP, IP_TOS, val, INT_BYTES);
  if (rc !== 0) {
    throw new Error(`setsockopt(fd ${fd}, IP_TOS, 0x${tos.toString(16)}): ${strerror(errno())}`);
  }
}

/** Reads the socket's IP_TOS octet. */
export function getTos(fd: number): number {
  const val = new Int32Array(1);
  const len = new Uint32Array([INT_BYTES]);
  const rc = libc().getsockopt(fd, IPPROTO_IP, IP_TOS, val, len);
  if (rc !== 0) throw new Error(`getsockopt(fd ${fd}, IP_TOS): ${strerror(errno())}`);
  return val[0] & 0xff;
}
