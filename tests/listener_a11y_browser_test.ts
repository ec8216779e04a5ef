/**
 * The listener page to a screen reader (Chromium, phone viewport): every
 * control is named with its channel ("Mute Kick", "Level Kick", "Pan Kick"),
 * fader values are spoken as text through aria-valuetext ("−6 dB", "L 20",
 * "centre"), and the page has at most one live region (the connection
 * status banner), not one per value.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchBrowser, startToneServer, waitStatus, watchErrors } from "./listener_helpers.ts";

const PHONE = { width: 390, height: 844 };
const NAMES: Record<number, string> = { 1: "Kick", 2: "Snare", 3: "Bass" };
/** Everything a browser treats as a live region: explicit, or implied by its role or element. */
const LIVE_REGIONS = [
  '[aria-live]:not([aria-live="off"])',
  "[role=status]",
  "[role=alert]",
  "[role=log]",
  "[role=timer]",
  "[role=marquee]",
  "output",
].join(",");

async function valueText(page: Page, name: string): Promise<string | null> {
  return await page.getByRole("slider", { name, exact: true }).getAttribute("aria-valuetext");
}

Deno.test({
  name:
    "listener controls are named with their channel, speak values as text, without live regions",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { server } = await startToneServer({ channels: 8 });
    const store = server.ctx.store;
    store.setChannels(store.getChannels().map((c) => ({ ...c, name: NAMES[c.id] ?? c.name })));
    const { ctx } = await launchBrowser(PHONE, { touch: true });
    try {
      const page = await ctx.newPage();
      const errors = watchErrors(page);
      await page.goto(`${server.url}/?transport=websocket`);
      await page.tap("#start");
      await waitStatus(page, (s) => s.state === "streaming", "the stream to start");
      await page.waitForSelector('.strip[data-id="8"]');
      // The EQ is folded away (and out of the accessibility tree) until opened.
      for (const id of Object.keys(NAMES)) await page.tap(`.strip[data-id="${id}"] .eq summary`);

      // Names, as the accessibility tree computes them (role + accessible name).
      for (const name of Object.values(NAMES)) {
        for (
          const [role, label] of [
            ["button", `Mute ${name}`],
            ["button", `Solo ${name}`],
            ["slider", `Level ${name}`],
            ["slider", `Pan ${name}`],
            ["slider", `EQ low ${name}`],
          ] as const
        ) {
          assert.equal(
            await page.getByRole(role, { name: label, exact: true }).count(),
            1,
            `no single ${role} named "${label}"`,
          );
        }
      }
      assert.equal(
        await page.getByRole("slider", { name: "Master level", exact: true }).count(),
        1,
      );

      // Values as words.
      assert.equal(await valueText(page, "Level Kick"), "0 dB");
      assert.equal(await valueText(page, "Pan Kick"), "centre");
      await page.getByRole("slider", { name: "Level Kick", exact: true }).fill("0.5");
      assert.equal(await valueText(page, "Level Kick"), "−6 dB");
      await page.getByRole("slider", { name: "Pan Kick", exact: true }).fill("-0.2");
      assert.equal(await valueText(page, "Pan Kick"), "L 20");
      await page.getByRole("slider", { name: "Pan Snare", exact: true }).fill("0.35");
      assert.equal(await valueText(page, "Pan Snare"), "R 35");
      await page.getByRole("slider", { name: "EQ low Bass", exact: true }).fill("-3");
      assert.equal(await valueText(page, "EQ low Bass"), "−3 dB");

      // Live regions: the connection's status (polite) and the engineer's message (an alert,
      // spoken once when it comes) — none per value.
      const live = await page.$$eval(LIVE_REGIONS, (els) => els.map((e) => e.id || e.tagName));
      assert.deepEqual(live.sort(), ["banner", "message-bar"]);
      assert.equal(await page.getAttribute("#banner", "role"), "status");
      assert.equal(await page.getAttribute("#message-bar", "role"), "alert");
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
      await server.close();
    }
  },
});
