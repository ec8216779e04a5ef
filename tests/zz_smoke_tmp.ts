import { launchBrowser, startToneServer, status, magnitudes, watchErrors, waitStatus } from "./listener_helpers.ts";
const transport = Deno.args[0] ?? "websocket";
const { server } = await startToneServer();
const { ctx } = await launchBrowser();
const page = await ctx.newPage();
const errors = watchErrors(page);
await page.goto(`${server.url}/?transport=${transport}`);
await page.click("#start");
try {
  await waitStatus(page, (s) => s.packets_received > 400, "packets");
} catch (e) { console.log(String(e)); }
await new Promise((r) => setTimeout(r, 1500));
console.log(JSON.stringify(await status(page)));
console.log(await magnitudes(page, [100, 200, 300, 400, 500, 600, 700, 800, 900, 1500]));
page.on("response", (r) => { if (r.status() >= 400) console.log("HTTP", r.status(), r.url()); });
for (let i = 0; i < 5; i++) { await new Promise((r) => setTimeout(r, 1000)); const s = await status(page); console.log(JSON.stringify({jb: s.jb, lead: s.leadMs, u: s.underruns, lat: s.latency_ms, pl: s.playout_latency_ms})); console.log((await magnitudes(page, [100, 200, 300, 400, 500, 600, 700, 800, 900])).map(Math.round).join(" ")); }
console.log(server.ctx.sessions.list().map((s) => [s.kind, s.stream?.packetsSent, (s.sender as any)?.stats]));
await page.screenshot({ path: "/tmp/shot.png" });
console.log(errors);
await ctx.close();
await server.close();
