/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Settings → "Channels to receive": which of the box's channels this phone
 * asks for at all. A channel not received costs no Wi-Fi airtime (the
 * server sends only what the client_config lists) and has no strip; `hidden`
 * is different (the strip is hidden, the channel still plays). At least one
 * channel stays on: an empty list would mean "all" to the server (contract §4).
 */
import type { ChannelSettings } from "../../src/client/settings.ts";
import { t } from "../i18n/i18n.ts";

export interface ReceivePanelDeps {
  /** The box's mapped channels, with this phone's settings, in send order. */
  channels(): ChannelSettings[];
  /** The selection changed: save, redraw the strips and ask the server for the new set. */
  changed(): void;
}

/** Changes come in bursts (ticking several boxes): one new stream for the burst. */
const APPLY_DELAY_MS = 600;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export class ReceivePanel {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly d: ReceivePanelDeps) {}

  bind(): void {
    $("receive-all").addEventListener("click", () => {
      for (const c of this.d.channels()) c.receive = true;
      this.render();
      this.schedule();
    });
  }

  /** Redraws the list (the box's channels or names changed). */
  render(): void {
    const chans = this.d.channels();
    const list = $("receive-list");
    list.replaceChildren();
    for (const c of chans) {
      const label = document.createElement("label");
      label.className = "receive-row";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = c.receive;
      box.dataset.id = String(c.id);
      box.addEventListener("change", () => {
        // A stereo pair is received as a pair (one strip drives both).
        const partner = c.link?.with ?? chans.find((x) => x.link?.with === c.id)?.id;
        const other = chans.find((x) => x.id === partner);
        const on = chans.filter((x) => x.receive && x !== other).length;
        if (!box.checked && on <= 1) {
          box.checked = true; // the last one stays: none would mean all
          return;
        }
        c.receive = box.checked;
        if (other) {
          other.receive = box.checked;
          const otherBox = list.querySelector<HTMLInputElement>(`input[data-id="${other.id}"]`);
          if (otherBox) otherBox.checked = box.checked;
        }
        this.count();
        this.schedule();
      });
      const name = document.createElement("span");
      name.textContent = `${c.id} · ${c.name}`;
      label.append(box, name);
      list.append(label);
    }
    this.count();
  }

  private count(): void {
    const chans = this.d.channels();
    const on = chans.filter((c) => c.receive).length;
    $("receive-count").textContent = t("l_receive_count", { on, total: chans.length });
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.d.changed(), APPLY_DELAY_MS);
  }
}
