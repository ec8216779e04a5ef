import { deepStrictEqual as assertEquals, match } from "node:assert/strict";
import { findConsole, listCards, parseProcCards, type SoundCard } from "./alsa_cards.ts";

const PROC_FIXTURE = ` 0 [PCH            ]: HDA-Intel - HDA Intel PCH
                      HDA Intel PCH at 0xf7f10000 irq 32
 1 [X32            ]: USB-Audio - X-USB
                      BEHRINGER X-USB at usb-0000:00:14.0-1, high speed
`;

const HDA: SoundCard = {
  index: 0,
  id: "PCH",
  name: "HDA Intel PCH",
  longname: "HDA Intel PCH at 0xf7f10000 irq 32",
};

Deno.test("/proc/asound/cards lines parse into index, id, name and longname", () => {
  assertEquals(parseProcCards(PROC_FIXTURE), [
    HDA,
    {
      index: 1,
      id: "X32",
      name: "X-USB",
      longname: "BEHRINGER X-USB at usb-0000:00:14.0-1, high speed",
    },
  ]);
});

Deno.test("an X32 shown as X-USB is found and addressed by card id", () => {
  const m = findConsole(parseProcCards(PROC_FIXTURE));
  assertEquals(m.device, "hw:CARD=X32");
  match(m.reason, /card 1 "X32".*X32/);
});

Deno.test("a Midas M32 is found case-insensitively by its long name", () => {
  const m32: SoundCard = {
    index: 2,
    id: "Card",
    name: "USB Audio",
    longname: "MIDAS m32 at usb-1-1",
  };
  assertEquals(findConsole([HDA, m32]).device, "hw:CARD=Card");
});

Deno.test("the M32 wins over an X32 when both are plugged in", () => {
  const x32: SoundCard = { index: 1, id: "XUSB", name: "X-USB", longname: "BEHRINGER X-USB" };
  const m32: SoundCard = { index: 2, id: "M32", name: "M32", longname: "Midas M32" };
  assertEquals(findConsole([x32, m32]).device, "hw:CARD=M32");
});

Deno.test("no console found names the cards that were seen", () => {
  const m = findConsole([HDA]);
  assertEquals(m.device, null);
  match(m.reason, /no M32\/X32.*0 "PCH" \(HDA Intel PCH at/);
  match(findConsole([]).reason, /no sound cards at all/);
});

Deno.test("listing cards through libasound on a machine without cards returns a list", () => {
  const cards = listCards();
  for (const c of cards) match(c.id, /.+/);
  assertEquals(Array.isArray(cards), true);
});
