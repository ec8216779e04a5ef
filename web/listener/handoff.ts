/// <reference lib="dom" />
/**
 * GET /listener/handoff#box=<id>&return=<url>: the box's page at this
 * origin, visited by the listener page at another origin of the same box
 * (./box_identity.ts). It reads this origin's mix for the box and goes back
 * with it in the fragment — only to an origin the box says is its own.
 */
import { encodeMix, fetchIdentity, MIX_FRAGMENT } from "./box_identity.ts";
import { type MessageKey, t } from "../i18n/i18n.ts";
import { startI18n } from "../i18n/dom.ts";

const SETTINGS_PREFIX = "m32-client-settings:";
const MIXES_PREFIX = "m32-mixes:";

function read(key: string): unknown {
  try {
    const t = localStorage.getItem(key);
    return t === null ? null : JSON.parse(t);
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const h = new URLSearchParams(location.hash.slice(1));
  const box = h.get("box");
  const ret = h.get("return");
  startI18n();
  const say = (key: MessageKey) => (document.getElementById("handoff-text")!.textContent = t(key));
  if (!box || !ret) return void say("l_handoff_nothing");
  let target: URL;
  try {
    target = new URL(ret);
  } catch {
    return void say("l_handoff_nothing");
  }
  const id = await fetchIdentity();
  if (!id || !id.origins.includes(target.origin)) {
    return void say("l_handoff_foreign");
  }
  // This origin's mix for the box: under the box's id, or (older pages) under this host.
  const settings = id.box_id === box
    ? read(SETTINGS_PREFIX + `box:${box}`) ?? read(SETTINGS_PREFIX + location.host)
    : null;
  const presets = id.box_id === box
    ? read(MIXES_PREFIX + `box:${box}`) ?? read(MIXES_PREFIX + location.host)
    : null;
  target.hash = `${MIX_FRAGMENT}=${settings ? encodeMix({ settings, presets }) : "none"}`;
  location.replace(target.href);
}

void main();
