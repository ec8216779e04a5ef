/** Korean catalogue: the same keys as en.ts (tests check it). */
import type { MessageKey } from "./en.ts";

export const KO: Record<MessageKey, string> = {
  // Shared
  language: "언어",

  // Listener: Wi-Fi quality (issue #13 item 3)
  wifi_unstable:
    "Wi-Fi가 불안정해서 소리가 끊길 수 있습니다. 공유기(AP)에 더 가까이 가거나 받는 채널 수를 줄여 보세요.",
  wifi_stalled: "Wi-Fi로 소리가 들어오지 않습니다. 기다렸다가 다시 연결합니다.",
  wifi_badge: "Wi-Fi 약함",
};
