/**
 * The admin module: password bootstrap, auth, the admin API, the live feed
 * and the embedded page, installed into a running server's context.
 *
 *   const admin = installAdmin(ctx, { initialPassword });
 *   createApp(ctx, [admin.extension]);   …   admin.close();
 */
import type { AppExtension } from "../http/app.ts";
import type { ServerContext } from "../http/context.ts";
import { listCards } from "../audio/alsa_cards.ts";
import { AdminAuth } from "./auth.ts";
import { LiveHub } from "./live.ts";
import { mountAdminPage } from "./page.ts";
import { bootstrapPassword } from "./password.ts";
import { mountAdminApi } from "./routes.ts";

export interface AdminOptions {
  /** First password when none is stored; default M32_ADMIN_PASSWORD. */
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

export function installAdmin(ctx: ServerContext, opts: AdminOptions = {}): AdminModule {
  bootstrapPassword(ctx.store, {
    initialPassword: opts.initialPassword ?? Deno.env.get("M32_ADMIN_PASSWORD"),
    log: ctx.log.child("admin"),
  });
  const auth = new AdminAuth(ctx.store, ctx.clock);
  ctx.isAdmin = (c) => auth.isAdmin(c);
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
