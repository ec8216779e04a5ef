/**
 * One mix per box, whatever name the phone reached it by (issue 13, 8g):
 * browsers keep data per origin, so the page keeps the mix under the box's
 * id and, at a new origin of the same box, brings it over from the other.
 * Here 127.0.0.1 and localhost are two origins of one box.
 */
import assert from "node:assert/strict";
import { openLive, phoneTest, type Status, status, waitStatus } from "./listener_helpers.ts";
import { boxOrigins } from "../src/listener/identity.ts";

const notes = (s: Status) => (s.stateLog as { detail: string }[]).map((x) => x.detail);

Deno.test("the box's origins are every name and port a phone may use", () => {
  assert.deepEqual(
    boxOrigins({
      hostname: "0.0.0.0",
      httpPort: 8080,
      httpsPort: 8443,
      addresses: ["192.168.1.10"],
      mdns: "stage-box.local",
    }),
    [
      "http://192.168.1.10:8080",
      "https://192.168.1.10:8443",
      "http://stage-box.local:8080",
      "https://stage-box.local:8443",
      "http://127.0.0.1:8080",
      "https://127.0.0.1:8443",
      "http://localhost:8080",
      "https://localhost:8443",
    ],
  );
  assert.deepEqual(boxOrigins({ hostname: "127.0.0.1", httpPort: 9, httpsPort: null }), [
    "http://127.0.0.1:9",
    "http://localhost:9",
  ]);
});

phoneTest(
  "a phone that reaches the box by another name finds its mix there",
  4,
  async ({ server, ctx }) => {
    const port = server.httpPort;
    const identity = await (await fetch(`${server.url}/listener/identity`)).json();
    assert.match(identity.box_id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(identity.origins, [`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

    const byIp = await ctx.newPage();
    await openLive(byIp, `http://127.0.0.1:${port}/?transport=websocket`);
    await byIp.click('.strip[data-id="2"] .mute');
    await byIp.click('.strip[data-id="3"] .solo');
    await new Promise((r) => setTimeout(r, 600)); // saved 300 ms after a change

    // The same phone, the box by its name: the mix comes over by itself.
    const byName = await ctx.newPage();
    await byName.goto(`http://localhost:${port}/?transport=websocket`);
    // It visits 127.0.0.1's handoff page and comes back: status reads fail while it navigates.
    const end = Date.now() + 20_000;
    for (;;) {
      const s = await status(byName).catch(() => null);
      if (s && notes(s).includes("mix brought over from another address of the box")) break;
      if (Date.now() > end) assert.fail(`no handoff; at ${byName.url()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(new URL(byName.url()).hash, "", "the fragment is gone from the address bar");
    await byName.click("#start");
    await waitStatus(byName, (s) => s.state === "streaming", "streaming");
    assert.equal(await byName.getAttribute('.strip[data-id="2"] .mute', "aria-pressed"), "true");
    assert.equal(await byName.getAttribute('.strip[data-id="3"] .solo', "aria-pressed"), "true");
    const keys = await byName.evaluate(() =>
      // deno-lint-ignore no-explicit-any
      Object.keys((globalThis as any).localStorage)
    );
    assert.ok(keys.includes(`m32-client-settings:box:${identity.box_id}`), keys.join(", "));

    // A second visit does not go looking again (it has the mix now).
    await byName.reload();
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(new URL(byName.url()).host, `localhost:${port}`);
  },
);
