/**
 * The admin API (docs/protocol.md §9) under `/api/admin/`. Every route but
 * login needs a session (401); every mutation must come from the page's own
 * origin (403). Input is checked in ./validate.ts; writes commit to SQLite
 * before the answer.
 */
import type { Context, Hono } from "hono";
import { upgradeWebSocket } from "hono/deno";
import { ApiError, badRequest } from "../http/errors.ts";
import { readJson, remoteIp } from "../http/app.ts";
import type { ServerContext } from "../http/context.ts";
import { lanAddresses } from "../net/local_address.ts";
import type { AdminAuth } from "./auth.ts";
import type { LiveHub } from "./live.ts";
import { httpsUrls, qrAnswer } from "./qr.ts";
import { mdnsName } from "../tls/certificates.ts";
import {
  checkBody,
  checkChannels,
  checkConfigPatch,
  checkHttps,
  LoginBody,
  MessageBody,
  onlyNamesChanged,
  PasswordChangeBody,
  type Result,
} from "./validate.ts";
import { clientsView, statusView } from "./views.ts";

export const API = "/api/admin";
const PUBLIC_PATHS = new Set([`${API}/login`]);

export interface AdminRouteDeps {
  ctx: ServerContext;
  auth: AdminAuth;
  live: LiveHub;
  /** Sound cards for the status page (absent where ALSA is not built in). */
  listCards?: () => unknown[];
  /** LAN IPv4 addresses for the QR code (injected by tests). */
  addresses?: () => string[];
}

function valueOf<T>(r: Result<T>): T {
  if (!r.ok) throw badRequest("invalid_value", r.message);
  return r.value;
}

export function mountAdminApi(app: Hono, deps: AdminRouteDeps): void {
  const { ctx, auth, live } = deps;

  app.use(`${API}/*`, async (c, next) => {
    c.header("Cache-Control", "no-store");
    auth.assertSameOrigin(c, c.req.path === `${API}/live`);
    if (!PUBLIC_PATHS.has(c.req.path)) auth.requireSession(c);
    await next();
  });

  app.post(`${API}/login`, async (c) => {
    const { password } = valueOf(checkBody(LoginBody, await readJson(c)));
    const address = remoteIp(c);
    const r = await auth.login(address, password);
    if (!r.ok && r.status === 429) {
      c.header("Retry-After", String(r.retryAfterS));
      ctx.log.warn("admin login throttled", { address, retry_after_s: r.retryAfterS });
      throw new ApiError(
        429,
        "too_many_attempts",
        `too many failed logins; try again in ${r.retryAfterS} s`,
      );
    }
    if (!r.ok) {
      ctx.log.warn("admin login failed", { address });
      throw new ApiError(401, "wrong_password", "wrong password");
    }
    auth.setCookie(c, r.session);
    ctx.log.info("admin logged in", { address });
    return c.json({ status: "ok", expires_at: new Date(r.session.expiresAt).toISOString() });
  });

  // The page's "am I logged in?" probe: public, answers 200 either way.
  app.get(`${API}/login`, (c) => {
    const s = auth.sessionOf(c);
    return c.json({
      logged_in: s !== null,
      expires_at: s ? new Date(s.expiresAt).toISOString() : null,
    });
  });

  app.post(`${API}/logout`, (c) => {
    const s = auth.requireSession(c);
    auth.sessions.end(s.id);
    live.endSession(s.id);
    auth.clearCookie(c);
    return c.json({ status: "ok" });
  });

  app.get(`${API}/session`, (c) => {
    const s = auth.requireSession(c);
    return c.json({ status: "ok", expires_at: new Date(s.expiresAt).toISOString() });
  });

  app.post(`${API}/password`, async (c) => {
    const s = auth.requireSession(c);
    const body = valueOf(checkBody(PasswordChangeBody, await readJson(c)));
    const r = await auth.attempt(remoteIp(c), body.current);
    if (!r.ok && r.status === 429) {
      c.header("Retry-After", String(r.retryAfterS));
      throw new ApiError(
        429,
        "too_many_attempts",
        `too many failed attempts; try again in ${r.retryAfterS} s`,
      );
    }
    // 403, not 401: the admin is logged in (401 means "not logged in", docs/protocol.md §3, and
    // the page answers it with the login form); only this change is refused.
    if (!r.ok) {
      throw new ApiError(
        403,
        "wrong_password",
        "the current password is wrong; the password was not changed",
      );
    }
    await auth.changePassword(body.new, s);
    ctx.log.info("admin password changed", { address: remoteIp(c) });
    return c.json({ status: "ok" });
  });

  app.get(`${API}/config`, (c) => c.json(ctx.store.get()));

  app.patch(`${API}/config`, async (c) => {
    const current = ctx.store.get();
    const checked = valueOf(checkConfigPatch(current, await readJson(c), ctx.httpPort()));
    if (
      checked.expectedVersion !== undefined && checked.expectedVersion !== current.config_version
    ) {
      throw new ApiError(
        409,
        "version_conflict",
        `the configuration is at version ${current.config_version}, not ${checked.expectedVersion}; reload and try again`,
      );
    }
    if (checked.changedKeys.length === 0) {
      return c.json({ status: "ok", config_version: current.config_version, sessions_ended: 0 });
    }
    const ended = countEnded(ctx, () => {
      ctx.changeReason(`admin changed ${checked.changedKeys.join(", ")}`);
      ctx.store.patch(checked.patch);
    });
    ctx.log.info("admin changed configuration", {
      keys: checked.changedKeys.join(","),
      sessions_ended: ended.count,
    });
    if (checked.patch.https) await ctx.https.apply();
    return c.json({
      status: "ok",
      config_version: ctx.store.configVersion,
      sessions_ended: ended.count,
    });
  });

  // The AES67 output's streams (with their SDPs), the clock and the interfaces to choose from.
  app.get(`${API}/aes67`, (c) => c.json(ctx.aes67?.view() ?? null));

  app.get(`${API}/channels`, (c) => c.json(ctx.store.getChannels()));

  app.put(`${API}/channels`, async (c) => {
    const next = valueOf(checkChannels(await readJson(c)));
    const before = ctx.store.getChannels();
    const names = onlyNamesChanged(before, next);
    const ended = countEnded(ctx, () => {
      ctx.changeReason(names ? "admin renamed channels" : "admin changed the channel mapping");
      ctx.store.setChannels(next);
    });
    ctx.log.info("admin changed channels", {
      mapped: next.filter((ch) => ch.enabled).length,
      names_only: names,
      sessions_ended: ended.count,
    });
    return c.json({
      status: "ok",
      config_version: ctx.store.configVersion,
      sessions_ended: ended.count,
    });
  });

  app.get(`${API}/clients`, (c) => c.json(clientsView(ctx)));

  app.delete(`${API}/clients/:id`, (c) => {
    const id = c.req.param("id");
    const s = ctx.sessions.get(id);
    if (!s) throw new ApiError(404, "no_such_client", `no connected client with id ${id}`);
    const reason = "disconnected by the admin";
    ctx.sessions.end(s, reason, { type: "reconnect", reason });
    live.pushSoon();
    return c.json({ status: "ok", client_id: id });
  });

  app.post(`${API}/message`, async (c) => {
    const { text } = valueOf(checkBody(MessageBody, await readJson(c)));
    const n = ctx.sessions.broadcast({ type: "custom_message", text });
    ctx.log.info("admin message sent", { clients: n, chars: text.length });
    return c.json({ status: "ok", clients: n });
  });

  app.get(`${API}/status`, (c) => {
    let cards: unknown[] | null = null;
    try {
      cards = deps.listCards ? deps.listCards() : null;
    } catch {
      cards = null;
    }
    return c.json({ ...statusView(ctx), sound_cards: cards });
  });

  const addresses = () => (deps.addresses ?? lanAddresses)();
  const httpsPort = () => ctx.https.status().listening_port;

  app.get(
    `${API}/qr`,
    (c) => c.json(qrAnswer(addresses(), ctx.httpPort(), httpsPort(), mdnsName())),
  );

  /** The secure listener page: setting, state, addresses and the page certificate's fingerprint. */
  const httpsView = () => {
    const st = ctx.https.status();
    return { ...st, urls: httpsUrls(addresses(), st.listening_port ?? st.port, mdnsName()) };
  };

  app.get(`${API}/https`, (c) => c.json(httpsView()));

  app.post(`${API}/https`, async (c) => {
    const current = ctx.store.get().https;
    const next = valueOf(checkHttps(current, await readJson(c), ctx.httpPort()));
    if (next.enabled !== current.enabled || next.port !== current.port) {
      ctx.store.patch({ https: next });
      ctx.log.info("admin changed https", { enabled: next.enabled, port: next.port });
    }
    await ctx.https.apply();
    return c.json({ status: "ok", config_version: ctx.store.configVersion, ...httpsView() });
  });

  app.get(
    `${API}/live`,
    upgradeWebSocket((c: Context) => live.attach(auth.requireSession(c).id)),
  );
}

/** Runs a store write and counts the client sessions it ended (config_changed). */
function countEnded(ctx: ServerContext, write: () => void): { count: number } {
  const before = new Set(ctx.sessions.list().map((s) => s.id));
  write();
  let count = 0;
  for (const id of before) if (!ctx.sessions.get(id)) count++;
  return { count };
}
