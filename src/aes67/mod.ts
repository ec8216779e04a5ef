/**
 * AES67 input, assembled for the server: the SAP listener (sessions heard,
 * for the admin API and for resolving `input.session`), the source's input
 * settings with their resolver, and the admin route.
 */
import type { Aes67Input } from "../audio/source_factory.ts";
import type { AppExtension } from "../http/app.ts";
import type { Closers } from "../util/closers.ts";
import type { Logger } from "../util/log.ts";
import { type Aes67InputSettings, resolveAes67Input } from "./input.ts";
import { aes67Extension } from "./routes.ts";
import { lanAddresses } from "../net/local_address.ts";
import { SAP_GROUP, SAP_PORT, SapListener } from "./sap_listener.ts";

export interface Aes67InputOptions {
  /** `--aes67-session` / `--aes67-interface` for this run, if given (they win over the configuration). */
  input?: Aes67InputSettings;
  /** The stored `aes67.input.session`, read at every open of the source. */
  configuredSession: () => string;
  /** SAP listener: false = off; a port for tests. */
  sap?: false | { port?: number; interfaceAddress?: string; minTimeoutMs?: number };
}

export interface Aes67InputPart {
  input: Aes67Input;
  extension: AppExtension;
  sap: SapListener | null;
}

/** Opens the SAP listener (a failure is logged, never fatal) and builds the input. */
export async function assembleAes67Input(
  opts: Aes67InputOptions,
  log: Logger,
  closers: Closers,
): Promise<Aes67InputPart> {
  let sap: SapListener | null = null;
  let sapError = opts.sap === false ? "the SAP listener is turned off" : "";
  if (opts.sap !== false) {
    const listener = new SapListener({
      port: opts.sap?.port,
      interfaceAddress: opts.sap?.interfaceAddress ?? opts.input?.interfaceAddress,
      minTimeoutMs: opts.sap?.minTimeoutMs,
      onError: (e) => log.warn("SAP listener stopped", { error: e.message }),
    });
    try {
      await listener.open();
      sap = listener;
      closers.add("sap listener", () => listener.close());
      log.info("listening for AES67 sessions (SAP)", {
        group: `${SAP_GROUP}:${opts.sap?.port ?? SAP_PORT}`,
      });
    } catch (e) {
      sapError = (e as Error).message;
      log.warn("SAP listener not running: AES67 sessions cannot be discovered", {
        error: sapError,
      });
    }
  }
  const cli = opts.input;
  const input: Aes67Input = {
    get session() {
      return cli?.session || opts.configuredSession();
    },
    interfaceAddress: cli?.interfaceAddress,
    resolve: (s) => resolveAes67Input(s, sap, Deno.readTextFileSync, lanAddresses).streams,
  };
  return {
    input,
    sap,
    extension: aes67Extension(() => (sap ? sap.sessions() : null), () => sapError),
  };
}
