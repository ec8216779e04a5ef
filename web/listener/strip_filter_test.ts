import assert from "node:assert/strict";
import { matchesFilter } from "./strip_filter.ts";

Deno.test("the strip filter finds a channel by name, ignoring case, or by its number as typed", () => {
  assert.ok(matchesFilter(3, "Lead Vox", "vox"));
  assert.ok(matchesFilter(3, "Lead Vox", "  LEAD "));
  assert.ok(!matchesFilter(3, "Lead Vox", "kick"));
  assert.ok(matchesFilter(12, "Keys L", "12"));
  assert.ok(matchesFilter(12, "Keys L", "1"), "a number typed so far");
  assert.ok(!matchesFilter(21, "Tom", "12"));
  assert.ok(matchesFilter(5, "CH05", ""), "no filter: every strip");
});
