import assert from "node:assert/strict";
import { parseRelayArgs } from "./relay_cli.ts";

Deno.test("relay command line reads profile, seed, addresses and direction", () => {
  assert.deepEqual(
    parseRelayArgs([
      "--profile",
      "crowded",
      "--seed",
      "7",
      "--listen",
      "0.0.0.0:5006",
      "--to",
      "[::1]:8443",
      "--impair",
      "from-target",
    ]),
    {
      profile: "crowded",
      seed: 7,
      listen: { hostname: "0.0.0.0", port: 5006 },
      to: { hostname: "::1", port: 8443 },
      impair: "from-target",
      tcp: false,
      statsS: 5,
    },
  );
  assert.equal(parseRelayArgs(["--to", "127.0.0.1:1", "--tcp"])!.profile, "stage-ap");
  assert.equal(parseRelayArgs(["--help"]), null);
});

Deno.test("relay command line refuses an unknown profile, a missing target and bad addresses", () => {
  assert.throws(
    () => parseRelayArgs(["--to", "127.0.0.1:1", "--profile", "lte"]),
    /clean, stage-ap, crowded, got lte/,
  );
  assert.throws(() => parseRelayArgs([]), /--to HOST:PORT is required/);
  assert.throws(() => parseRelayArgs(["--to", "localhost"]), /--to needs HOST:PORT, got localhost/);
  assert.throws(
    () => parseRelayArgs(["--to", "1.2.3.4:5", "--impair", "both"]),
    /to-target or from-target/,
  );
  assert.throws(() => parseRelayArgs(["--to", "1.2.3.4:5", "--seed", "x"]), /integer/);
});
