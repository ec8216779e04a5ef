/** English catalogue: the reference for keys (see i18n.ts). Keep keys grouped by page. */
export const EN = {
  // Shared
  language: "Language",

  // Listener: Wi-Fi quality (issue #13 item 3)
  wifi_unstable:
    "Wi-Fi is unstable — the audio may drop out. Move closer to the access point, or receive fewer channels.",
  wifi_stalled: "No audio is getting through the Wi-Fi — waiting for it, then reconnecting.",
  wifi_badge: "Weak Wi-Fi",
} as const;

export type MessageKey = keyof typeof EN;
