/**
 * Sound cards on this machine and which one is the console. Listing goes
 * through libasound (snd_card_next, snd_ctl card info for the id,
 * snd_card_get_name/longname), falling back to /proc/asound/cards; matching
 * (`findConsole`) is pure.
 *
 * /proc/asound/cards lines look like:
 *    1 [X32            ]: USB-Audio - X-USB
 *                         BEHRINGER X-USB at usb-0000:00:14.0-1, high speed
 */

import { cellPointer, cString, libasound, pointerCell, readCString } from "../../ffi/libasound.ts";

export interface SoundCard {
  index: number;
  id: string;
  name: string;
  longname: string;
}

export interface ConsoleMatch {
  device: string;
  card: SoundCard;
  reason: string;
}

/** Case-insensitive patterns on id/name/longname, best first. */
const CONSOLE_PATTERNS: readonly { re: RegExp; what: string }[] = [
  { re: /\bm32\b|midas/i, what: "Midas M32" },
  { re: /x-?usb|\bx32\b/i, what: "Behringer X32 (X-USB)" },
];

const PROC_CARDS = "/proc/asound/cards";
const PROC_LINE = /^\s*(\d+)\s+\[([^\]]+)\]\s*:\s*(.*?)\s*$/;

/** Picks the M32/X32 among `cards`, or explains what was found instead. */
export function findConsole(
  cards: readonly SoundCard[],
): ConsoleMatch | { device: null; reason: string } {
  for (const p of CONSOLE_PATTERNS) {
    for (const card of cards) {
      const field = ([["id", card.id], ["name", card.name], ["longname", card.longname]] as const)
        .find(([, v]) => p.re.test(v));
      if (field) {
        return {
          device: `hw:CARD=${card.id}`,
          card,
          reason: `card ${card.index} "${card.id}" looks like a ${p.what} (${field[0]} "${
            field[1]
          }")`,
        };
      }
    }
  }
  const found = cards.length === 0
    ? "no sound cards at all"
    : cards.map((c) => `${c.index} "${c.id}" (${c.longname || c.name})`).join(", ");
  return { device: null, reason: `no M32/X32 USB card found; found: ${found}` };
}

/** Parses /proc/asound/cards text. */
export function parseProcCards(text: string): SoundCard[] {
  const lines = text.split("\n");
  const cards: SoundCard[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = PROC_LINE.exec(lines[i]);
    if (!m) continue;
    const [driverPart, ...nameParts] = m[3].split(" - ");
    cards.push({
      index: Number(m[1]),
      id: m[2].trim(),
      name: nameParts.join(" - ").trim() || driverPart.trim(),
      longname: (lines[i + 1] ?? "").trim(),
    });
  }
  return cards;
}

/** Cards via libasound; /proc/asound/cards when the library is unusable. */
export function listCards(): SoundCard[] {
  try {
    return listCardsAlsa();
  } catch {
    try {
      return parseProcCards(Deno.readTextFileSync(PROC_CARDS));
    } catch {
      return [];
    }
  }
}

function listCardsAlsa(): SoundCard[] {
  const a = libasound();
  const idx = new Int32Array([-1]);
  const cards: SoundCard[] = [];
  const str = pointerCell();
  const takeString = (): string => {
    const p = cellPointer(str);
    const s = readCString(p);
    if (p !== null && a.free) a.free(p);
    return s;
  };
  while (a.snd_card_next(idx) === 0 && idx[0] >= 0) {
    const index = idx[0];
    const name = a.snd_card_get_name(index, str) === 0 ? takeString() : "";
    const longname = a.snd_card_get_longname(index, str) === 0 ? takeString() : "";
    cards.push({ index, id: cardId(index) ?? String(index), name, longname });
  }
  return cards;
}

function cardId(index: number): string | null {
  const a = libasound();
  const ctlCell = pointerCell();
  if (a.snd_ctl_open(ctlCell, cString(`hw:${index}`), 0) < 0) return null;
  const ctl = cellPointer(ctlCell);
  const infoCell = pointerCell();
  try {
    if (a.snd_ctl_card_info_malloc(infoCell) < 0) return null;
    const info = cellPointer(infoCell);
    try {
      return a.snd_ctl_card_info(ctl, info) === 0
        ? readCString(a.snd_ctl_card_info_get_id(info))
        : null;
    } finally {
      a.snd_ctl_card_info_free(info);
    }
  } finally {
    a.snd_ctl_close(ctl);
  }
}
