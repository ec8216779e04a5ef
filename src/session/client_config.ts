/**
 * The `client_config` payload a client sends (docs/protocol.md §4): the
 * channels it wants, its sample rate and compression. The schema lives with
 * the sessions that act on it; src/http/schemas.ts validates frames with it.
 */
import * as v from "valibot";
import { COMPRESSIONS, SAMPLE_RATES } from "../config/types.ts";

/** A channel by its USB id (other fields are the client's own settings). */
const ChannelRef = v.looseObject({
  id: v.pipe(v.number(), v.integer("channel id must be an integer"), v.minValue(1), v.maxValue(32)),
});

export const ClientConfigPayload = v.looseObject({
  channels: v.optional(v.array(ChannelRef)),
  sample_rate: v.optional(
    v.picklist(SAMPLE_RATES, "sample_rate must be 48000, 44100, 32000 or 24000"),
  ),
  compression: v.optional(v.picklist(COMPRESSIONS, 'compression must be "none" or "opus"')),
});
export type ClientConfigPayload = v.InferOutput<typeof ClientConfigPayload>;
