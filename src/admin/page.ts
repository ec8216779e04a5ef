/**
 * The admin page's static files (web/admin/; its script built into
 * web/gen/admin.js by `deno task build:web`), embedded in the program as text so
 * `deno bundle` and `deno compile` carry them. Served with a strict
 * Content-Security-Policy: no inline script or style, same-origin only.
 */
import type { Hono } from "hono";
import indexHtml from "../../web/admin/index.html" with { type: "text" };
import adminCss from "../../web/admin/admin.css" with { type: "text" };
import adminJs from "../../web/gen/admin.js" with { type: "text" };

export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy": CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cache-Control": "no-cache",
};

const FILES: Record<string, { body: string; type: string }> = {
  "/admin/": { body: indexHtml, type: "text/html; charset=utf-8" },
  "/admin/admin.css": { body: adminCss, type: "text/css; charset=utf-8" },
  "/admin/admin.js": { body: adminJs, type: "text/javascript; charset=utf-8" },
};

export function mountAdminPage(app: Hono): void {
  app.get("/admin", (c) => c.redirect("/admin/", 301));
  for (const [path, file] of Object.entries(FILES)) {
    app.get(
      path,
      (c) => c.body(file.body, 200, { ...SECURITY_HEADERS, "Content-Type": file.type }),
    );
  }
}
