/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Settings → My mixes → a mix as a QR code, and a mix from one (issue #13
 * item 6). The code is a link to this page with the mix in its fragment
 * (`/#mix=<code>`, src/client/mix_code.ts): another phone's camera app opens
 * it, and the page asks before it replaces the mix there. A phone can also
 * scan here (BarcodeDetector, where the browser has it: Chrome on Android,
 * HTTPS) or paste the link or the code.
 *
 * The fragment never reaches the server; the page keeps it for the tab
 * (sessionStorage) until it knows the box's mix, then offers it.
 */
import qrcode from "qrcode-generator";
import { decodeMix, encodeMix, mixCodeOf, mixLink } from "../../src/client/mix_code.ts";
import { type MixPreset, snapshot } from "../../src/client/mixes.ts";
import type { ClientSettings } from "../../src/client/settings.ts";
import { onLanguageChange, t } from "../i18n/i18n.ts";
import { el } from "./strips.ts";
import { fileError } from "./mixes_panel.ts";

const PENDING_KEY = "m32-pending-mix";
const SCAN_INTERVAL_MS = 300;

export interface MixShareDeps {
  settings(): ClientSettings;
  /** The mix's name as typed in My mixes (may be empty). */
  mixName(): string;
  /** Loads the mix (and keeps it as a saved mix). */
  adopt(mix: MixPreset): void;
}

/** The QR code of `text` as an SVG element (error correction M). */
export function qrSvg(text: string): SVGElement {
  const q = qrcode(0, "M");
  q.addData(text, "Byte");
  q.make();
  const svg = new DOMParser().parseFromString(
    q.createSvgTag({ cellSize: 4, margin: 4, scalable: true }),
    "image/svg+xml",
  ).documentElement;
  return document.importNode(svg, true) as unknown as SVGElement;
}

/**
 * Takes a mix link's code out of the address (so a reload does not offer it
 * again) and keeps it for this tab until `offerPending`.
 */
export function takeMixFromAddress(): void {
  const code = mixCodeOf(location.hash);
  if (!code) return;
  try {
    sessionStorage.setItem(PENDING_KEY, code);
  } catch { /* no storage: offered only if the page keeps running */ }
  pendingInMemory = code;
  history.replaceState(null, "", location.pathname + location.search);
}
let pendingInMemory: string | null = null;

interface Detector {
  detect(source: CanvasImageSource): Promise<{ rawValue: string }[]>;
}
type DetectorCtor = new (opts: { formats: string[] }) => Detector;

export class MixShare {
  private dialog: HTMLDialogElement | null = null;
  private stopScan: (() => void) | null = null;

  constructor(private readonly d: MixShareDeps) {}

  bind(): void {
    const row = document.querySelector(".mix-file")!;
    row.append(
      el("button", { type: "button", id: "mix-qr" }, t("share_qr")),
      el("button", { type: "button", id: "mix-paste" }, t("share_import")),
    );
    document.getElementById("mix-qr")!.addEventListener("click", () => void this.showQr());
    document.getElementById("mix-paste")!.addEventListener("click", () => this.showImport());
    onLanguageChange(() => {
      document.getElementById("mix-qr")!.textContent = t("share_qr");
      document.getElementById("mix-paste")!.textContent = t("share_import");
    });
  }

  private sheet(): HTMLDialogElement {
    if (!this.dialog) {
      this.dialog = el("dialog", { class: "sheet", id: "share-sheet" });
      this.dialog.addEventListener("close", () => this.stopScan?.());
      this.dialog.addEventListener("click", (e) => {
        if (e.target === this.dialog) this.dialog!.close();
      });
      document.body.append(this.dialog);
    }
    return this.dialog;
  }

  private show(...content: (Node | string)[]): HTMLDialogElement {
    const d = this.sheet();
    this.stopScan?.();
    d.replaceChildren(...content);
    if (!d.open) d.showModal();
    return d;
  }

  private doneButton(text = t("sheet_done")): HTMLButtonElement {
    const b = el("button", { type: "button", class: "primary", id: "share-done" }, text);
    b.addEventListener("click", () => this.dialog?.close());
    return b;
  }

  /** The mix now as a QR code of its link, with the link to copy. */
  async showQr(): Promise<void> {
    const name = this.d.mixName().trim() || t("share_default_name");
    const code = await encodeMix(snapshot(this.d.settings(), name, new Date().toISOString()));
    const link = mixLink(location.href, code);
    const linkBox = el("input", {
      id: "share-link",
      type: "text",
      readonly: "",
      value: link,
      "aria-label": t("share_link"),
    });
    const copy = el("button", { type: "button", id: "share-copy" }, t("share_copy"));
    const status = el("p", { class: "sheet-status" });
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(link);
        status.textContent = t("share_copied");
      } catch {
        linkBox.select();
        status.textContent = t("share_copy_by_hand");
      }
    });
    const qr = el("div", {
      class: "share-qr",
      role: "img",
      "aria-label": t("share_qr_of", { name }),
    });
    qr.append(qrSvg(link));
    this.show(
      el("h2", {}, t("share_qr_title", { name })),
      qr,
      el("p", { class: "sheet-note" }, t("share_qr_hint")),
      el("div", { class: "sheet-row" }, linkBox, copy),
      status,
      el("div", { class: "sheet-row sheet-end" }, this.doneButton()),
    );
  }

  /** Paste a link or code, or scan a QR code with this phone's camera (where the browser can). */
  showImport(): void {
    const text = el("textarea", {
      id: "share-paste",
      rows: "3",
      "aria-label": t("share_paste"),
      placeholder: t("share_paste"),
    });
    const status = el("p", { class: "sheet-status" });
    const load = el(
      "button",
      { type: "button", class: "primary", id: "share-load" },
      t("share_load"),
    );
    load.addEventListener("click", () => {
      const code = mixCodeOf(text.value);
      if (!code) status.textContent = t("share_not_a_mix");
      else void this.offer(code, status);
    });
    const video = el("video", { class: "share-video", playsinline: "", muted: "", hidden: "" });
    const scan = el("button", { type: "button", id: "share-scan" }, t("share_scan"));
    scan.hidden = !this.canScan();
    scan.addEventListener("click", () => void this.scan(video, status));
    this.show(
      el("h2", {}, t("share_import_title")),
      text,
      el("div", { class: "sheet-row" }, load, scan),
      video,
      status,
      el("div", { class: "sheet-row sheet-end" }, this.doneButton(t("share_cancel"))),
    );
  }

  private canScan(): boolean {
    return "BarcodeDetector" in globalThis && !!navigator.mediaDevices?.getUserMedia;
  }

  private async scan(video: HTMLVideoElement, status: HTMLElement): Promise<void> {
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch (e) {
      status.textContent = t("share_camera_failed", { reason: (e as Error).message });
      return;
    }
    const Ctor = (globalThis as unknown as { BarcodeDetector: DetectorCtor }).BarcodeDetector;
    const detector = new Ctor({ formats: ["qr_code"] });
    video.srcObject = stream;
    video.hidden = false;
    await video.play().catch(() => {});
    status.textContent = t("share_scanning");
    const timer = setInterval(async () => {
      try {
        for (const found of await detector.detect(video)) {
          const code = mixCodeOf(found.rawValue);
          if (code) {
            this.stopScan?.();
            await this.offer(code, status);
            return;
          }
        }
      } catch { /* a frame it could not read */ }
    }, SCAN_INTERVAL_MS);
    this.stopScan = () => {
      clearInterval(timer);
      for (const tr of stream.getTracks()) tr.stop();
      video.hidden = true;
      this.stopScan = null;
    };
  }

  /** A mix link the page was opened with: offered once the page knows this box's mix. */
  async offerPending(): Promise<void> {
    let code = pendingInMemory;
    try {
      code = sessionStorage.getItem(PENDING_KEY) ?? code;
      sessionStorage.removeItem(PENDING_KEY);
    } catch { /* memory only */ }
    pendingInMemory = null;
    if (!code) return;
    const status = el("p", { class: "sheet-status" });
    this.show(el("h2", {}, t("share_import_title")), status);
    await this.offer(code, status);
  }

  /** Decodes a code and asks before replacing the mix. */
  private async offer(code: string, status: HTMLElement): Promise<void> {
    let mix: MixPreset;
    try {
      mix = await decodeMix(code, new Date().toISOString());
    } catch (e) {
      status.textContent = t("share_bad_code", { reason: fileError(e) });
      this.show(
        el("h2", {}, t("share_import_title")),
        status,
        el("div", { class: "sheet-row sheet-end" }, this.doneButton()),
      );
      return;
    }
    const yes = el(
      "button",
      { type: "button", class: "primary", id: "share-confirm" },
      t("share_confirm"),
    );
    const no = el("button", { type: "button", id: "share-keep" }, t("share_keep_mine"));
    yes.addEventListener("click", () => {
      this.d.adopt(mix);
      this.dialog?.close();
    });
    no.addEventListener("click", () => this.dialog?.close());
    this.show(
      el("h2", { id: "share-confirm-title" }, t("share_confirm_title", { name: mix.name })),
      el("p", {}, t("share_confirm_text", { count: mix.channels.length })),
      el("div", { class: "sheet-row sheet-end" }, no, yes),
    );
  }
}
