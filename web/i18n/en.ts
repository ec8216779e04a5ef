/** English catalogue: the reference for keys (see i18n.ts). Keep keys grouped by page. */
export const EN = {
  // Shared
  language: "Language",
} as const;

export type MessageKey = keyof typeof EN;
