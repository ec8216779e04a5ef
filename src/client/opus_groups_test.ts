/**
 * Opus channel groups through the shared receiver with libopus (the Deno
 * client's decoder), delivered the way an unordered transport delivers them:
 * the fixtures of tests/helpers/opus_groups.ts. The page runs the same
 * fixtures with its wasm decoder (web/listener/opus_wasm_test.ts).
 */
import {
  checkScenario,
  groupPackets,
  SCENARIOS,
  sharedPath,
} from "../../tests/helpers/opus_groups.ts";
import { libopusDecoderFactory } from "./opus_ffi.ts";

const packets = groupPackets();

for (const sc of SCENARIOS) {
  Deno.test(`Opus groups (libopus): ${sc.name}`, () => {
    const path = sharedPath(libopusDecoderFactory);
    try {
      checkScenario(sc, packets, libopusDecoderFactory, path);
    } finally {
      path.receiver.close();
    }
  });
}
