/**
 * Admin authentication: the stored password hash, login with throttling,
 * sessions carried in a cookie, and the request guards every admin route
 * uses (same-origin for mutations, then a valid session).
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { ConfigStore } from "../config/store.ts";
import { ApiError } from "../http/errors.ts";
import type { Clock } from "../util/clock.ts";
import {
  type AdminSession,
  AdminSessions,
  SESSION_COOKIE,
  SESSION_TTL_S,
} from "./admin_sessions.ts";
import { crossOriginReason, MUTATING_METHODS } from "./origin.ts";
import { hashPassword, PASSWORD_META_KEY, verifyPassword } from "./password.ts";
import { LoginRateLimiter } from "./rate_limit.ts";

export type LoginResult =
  | { ok: true; session: AdminSession }
  | { ok: false; status: 401 }
  | { ok: false; status: 429; retryAfterS: number };

export class AdminAuth {
  readonly sessions: AdminSessions;
  readonly limiter: LoginRateLimiter;

  constructor(private readonly store: ConfigStore, clock: Clock) {
    this.sessions = new AdminSessions(clock);
    this.limiter = new LoginRateLimiter(clock);
  }

  private async passwordMatches(password: string): Promise<boolean> {
    const stored = this.store.getMeta(PASSWORD_META_KEY);
    if (!stored) return false;
    return await verifyPassword(password, stored);
  }

  /** Checks a password for `address`, counting failures; 429 while throttled. */
  async attempt(address: string, password: string): Promise<{ ok: true } | LoginResult> {
    const wait = this.limiter.retryAfterMs(address);
    if (wait > 0) return { ok: false, status: 429, retryAfterS: Math.ceil(wait / 1000) };
    if (!(await this.passwordMatches(password))) {
      this.limiter.fail(address);
      return { ok: false, status: 401 };
    }
    this.limiter.succeed(address);
    return { ok: true };
  }

  async login(address: string, password: string): Promise<LoginResult> {
    const r = await this.attempt(address, password);
    if (!r.ok) return r;
    return { ok: true, session: this.sessions.create() };
  }

  /** Stores a new hash and logs out every other session. */
  async changePassword(newPassword: string, keep: AdminSession): Promise<void> {
    this.store.setMeta(PASSWORD_META_KEY, await hashPassword(newPassword));
    this.sessions.endAllExcept(keep.id);
  }

  sessionOf(c: Context): AdminSession | null {
    return this.sessions.get(getCookie(c, SESSION_COOKIE));
  }

  /** 403 for a cross-origin mutation (or forced for WebSocket upgrades). */
  assertSameOrigin(c: Context, always = false): void {
    if (!always && !MUTATING_METHODS.has(c.req.method)) return;
    const why = crossOriginReason(c.req.raw.headers);
    if (why) throw new ApiError(403, "cross_origin", `cross-origin request refused: ${why}`);
  }

  /** The request's admin session, or 401. */
  requireSession(c: Context): AdminSession {
    const s = this.sessionOf(c);
    if (!s) throw new ApiError(401, "unauthorized", "log in on /admin/ first");
    return s;
  }

  /** ServerContext.isAdmin: same-origin (403 otherwise) and a valid session. */
  isAdmin(c: Context): boolean {
    this.assertSameOrigin(c);
    return this.sessionOf(c) !== null;
  }

  setCookie(c: Context, s: AdminSession): void {
    setCookie(c, SESSION_COOKIE, s.id, {
      path: "/",
      httpOnly: true,
      sameSite: "Strict",
      maxAge: SESSION_TTL_S,
    });
  }

  clearCookie(c: Context): void {
    deleteCookie(c, SESSION_COOKIE, { path: "/", httpOnly: true, sameSite: "Strict" });
  }
}
