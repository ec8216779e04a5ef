/**
 * Run by process_guard_test.ts in a subprocess. Arguments: `--guard` installs
 * the process guard; `rejection` makes an unhandled promise rejection, `timer`
 * a throwing timer callback. 50 ms later it prints "still serving …" (the
 * counts) — if it is still alive.
 */
import { installProcessGuard } from "../process_guard.ts";
import { getLogger } from "../../util/log.ts";

const guard = Deno.args.includes("--guard") ? installProcessGuard(getLogger("main")) : null;

if (Deno.args.includes("rejection")) Promise.reject(new Error("nobody handles this"));
if (Deno.args.includes("timer")) {
  setTimeout(() => {
    throw new Error("a timer callback threw");
  }, 0);
}
setTimeout(() => {
  console.log(`still serving errors=${guard?.errors} rejections=${guard?.rejections}`);
}, 50);
