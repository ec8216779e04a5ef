/**
 * The admin module: password bootstrap, auth, the admin API, the live feed
 * and the embedded page, installed into a running server's context.
 *
 *   const auth = openAdminAuth(store, clock, log, { initialPassword });
 *   const ctx = { …, isAdmin: (c) => auth.isAdmin(c) };
 *   const admin = installAdmin(ctx, auth);
 *   createApp(ctx, [admin.extension]);   …   admin.close();
 */
import type { AppExtension } from "../http/app.ts";
import type { ServerContext } from "../http/context.ts";
import { listCards } from "../audio/alsa_cards.ts";
import type { ConfigStore } from "../config/store.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { AdminAuth } from "./auth.ts";
import { LiveHub } from "./live.ts";
import { mountAdminPage } from "./page.ts";
import { bootstrapPassword } from "./password.ts";
import { mountAdminApi } from "./routes.ts";

export interface AdminOptions {
  /** First password when none is stored; default M32_ADMIN_PASSWORD (openAdminAuth). */
  initialPassword?: string;
  /** LAN addresses for the QR code (default: this machine's). */
  addresses?: () => string[];
}

export interface AdminModule {
  extension: AppExtension;
  auth: AdminAuth;
  live: LiveHub;
  /** Stops the live feed's timers and closes admin sockets. */
  close(): void;
}

/**
 * The first password (when none is stored) and the admin session check. It
 * exists before the server context does, so the context's `isAdmin` is set
 * once, at construction.
 */
export function openAdminAuth(
  store: ConfigStore,
  clock: Clock,
  log: Logger,
  opts: Pick<AdminOptions, "initialPassword"> = {},
): AdminAuth {
  bootstrapPassword(store, {
    initialPassword: opts.initialPassword ?? Deno.env.get("M32_ADMIN_PASSWORD"),
    log: log.child("admin"),
  });
  return new AdminAuth(store, clock);
}

/** The admin API, live feed and page over a context whose `isAdmin` is `auth`'s. */
export function installAdmin(
  ctx: ServerContext,
  auth: AdminAuth,
  opts: AdminOptions = {},
): AdminModule {
  const live = new LiveHub(ctx, auth);
  return {
    auth,
    live,
    extension: (app) => {
      mountAdminPage(app);
      mountAdminApi(app, { ctx, auth, live, listCards, addresses: opts.addresses });
    },
    close: () => live.close(),
  };
}
