import assert from "node:assert/strict";
import { parseLoadtestArgs } from "./main.ts";
import { clientSeed, conditionModel } from "./scenarios.ts";
import { WifiImpairment } from "../net/wifi_impairment.ts";
import { UniformImpairment } from "../net/uniform_impairment.ts";
import { WIFI_PROFILES } from "../net/wifi_profile.ts";

Deno.test("loadtest --profile puts scenario 1 and 2 clients behind that Wi-Fi profile with the seed", () => {
  const o = parseLoadtestArgs(["--profile", "stage-ap", "--seed", "3", "--scenario", "2"]);
  assert.equal(o.profile, "stage-ap");
  assert.equal(o.seed, 3);
  assert.equal(parseLoadtestArgs([]).profile, undefined);
  assert.throws(() => parseLoadtestArgs(["--profile", "lte"]), /clean, stage-ap, crowded, got lte/);
  assert.throws(() => parseLoadtestArgs(["--seed", "1.5"]), /--seed needs an integer/);
});

Deno.test("scenario 3's default conditions end with the three Wi-Fi profiles", () => {
  const names = parseLoadtestArgs([]).conditions.map((c) => c.profile ?? null);
  assert.deepEqual(names.slice(-3), ["clean", "stage-ap", "crowded"]);
  assert.ok(names.slice(0, -3).every((p) => p === null));
});

Deno.test("a condition's model: its Wi-Fi profile, its uniform settings, or no relay at all", () => {
  const wifi = conditionModel({ name: "w", profile: "crowded" }, 9);
  assert.ok(wifi instanceof WifiImpairment);
  assert.equal(wifi.profile, WIFI_PROFILES["crowded"]);
  assert.equal(wifi.seed, 9);
  assert.ok(conditionModel({ name: "l", lossPct: 10 }, 1) instanceof UniformImpairment);
  assert.equal(conditionModel({ name: "clean (no relay)" }, 1), undefined);
  assert.equal(conditionModel({ name: "seed only", seed: 4 }, 1), undefined);
  assert.notEqual(clientSeed(1, 0), clientSeed(1, 1));
  assert.notEqual(clientSeed(1, 0), clientSeed(2, 0));
});
