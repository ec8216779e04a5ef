/**
 * Opens the configured PacketSender with DSCP applied. "sendmmsg" needs Deno
 * FFI and libc; when they are unavailable the baseline "deno" sender is used
 * and the reason goes to `onFallback` for the caller to log.
 */

import type { PacketSender, SenderOptions } from "./sender.ts";
import { DenoSender } from "./deno_sender.ts";
import { SendmmsgSender } from "./sendmmsg_sender.ts";

export const SENDER_KINDS = ["sendmmsg", "deno"] as const;
export type SenderKind = typeof SENDER_KINDS[number];

/**
 * Creates a sender of `kind`. Port-in-use and bad options are thrown as they
 * are; only a sendmmsg setup failure (no FFI permission, no libc, fd not
 * found) falls back to "deno", reporting why. If DSCP cannot be applied on the
 * fallback either, the deno sender still starts and the reason says so.
 */
export function createSender(
  kind: SenderKind,
  opts: SenderOptions,
  onFallback: (reason: string) => void = () => {},
): Promise<PacketSender> {
  if (!SENDER_KINDS.includes(kind)) {
    return Promise.reject(
      new RangeError(`sender kind must be one of ${SENDER_KINDS.join(", ")}, got "${kind}"`),
    );
  }
  try {
    return Promise.resolve(open(kind, opts, onFallback));
  } catch (err) {
    return Promise.reject(err);
  }
}

function open(
  kind: SenderKind,
  opts: SenderOptions,
  onFallback: (reason: string) => void,
): PacketSender {
  let reason = "";
  if (kind === "sendmmsg") {
    try {
      return SendmmsgSender.open(opts);
    } catch (err) {
      if (isBindOrOptionError(err)) throw err;
      reason = `sendmmsg sender unavailable, using deno sender: ${message(err)}`;
    }
  }
  let sender: DenoSender;
  try {
    sender = DenoSender.open(opts);
  } catch (err) {
    if (isBindOrOptionError(err) || opts.dscp === 0) throw err;
    // DSCP marking failed (no FFI): stream unmarked rather than not at all.
    sender = DenoSender.open({ ...opts, dscp: 0 });
    reason += `${reason ? "; " : ""}DSCP ${opts.dscp} not applied: ${message(err)}`;
  }
  if (reason) onFallback(reason);
  return sender;
}

/** Errors that a different sender would hit too: bad options, a taken port, no net permission. */
function isBindOrOptionError(err: unknown): boolean {
  return err instanceof RangeError || err instanceof Deno.errors.AddrInUse ||
    err instanceof Deno.errors.AddrNotAvailable ||
    (err instanceof Deno.errors.PermissionDenied && /\bnet\b/.test(err.message));
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
