/**
 * Admin login sessions: in memory only (a restart logs everyone out), random
 * 256-bit ids, a fixed lifetime from login. The id travels in an HttpOnly,
 * SameSite=Strict cookie.
 */
import type { Clock } from "../util/clock.ts";

export const SESSION_COOKIE = "m32_admin";
export const SESSION_TTL_S = 12 * 60 * 60;
const SESSION_ID_BYTES = 32;
/** More than this many live sessions: the oldest is dropped. */
const MAX_SESSIONS = 256;

export interface AdminSession {
  id: string;
  createdAt: number;
  expiresAt: number;
}

function randomId(): string {
  const b = crypto.getRandomValues(new Uint8Array(SESSION_ID_BYTES));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export class AdminSessions {
  private readonly sessions = new Map<string, AdminSession>();

  constructor(
    private readonly clock: Clock,
    readonly ttlS = SESSION_TTL_S,
    private readonly newId: () => string = randomId,
  ) {}

  create(): AdminSession {
    this.prune();
    if (this.sessions.size >= MAX_SESSIONS) {
      this.sessions.delete(this.sessions.keys().next().value!);
    }
    const now = this.clock.now();
    const s = { id: this.newId(), createdAt: now, expiresAt: now + this.ttlS * 1000 };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session with this id, or null (unknown or expired). */
  get(id: string | undefined): AdminSession | null {
    if (!id) return null;
    const s = this.sessions.get(id);
    if (!s) return null;
    if (this.clock.now() >= s.expiresAt) {
      this.sessions.delete(id);
      return null;
    }
    return s;
  }

  end(id: string): void {
    this.sessions.delete(id);
  }

  /** After a password change: every other browser has to log in again. */
  endAllExcept(keep: string | null): number {
    let n = 0;
    for (const id of [...this.sessions.keys()]) {
      if (id !== keep) {
        this.sessions.delete(id);
        n++;
      }
    }
    return n;
  }

  get size(): number {
    this.prune();
    return this.sessions.size;
  }

  private prune(): void {
    const now = this.clock.now();
    for (const [id, s] of this.sessions) if (now >= s.expiresAt) this.sessions.delete(id);
  }
}
