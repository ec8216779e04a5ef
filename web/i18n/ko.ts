/** Korean catalogue: the same keys as en.ts (tests check it). */
import type { MessageKey } from "./en.ts";

export const KO: Record<MessageKey, string> = {
  // Shared
  language: "언어",
};
