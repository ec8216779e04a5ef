/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The musician's own strip layout (issue #13 item 6), edited on the phone in
 * a bottom sheet: a strip's name, colour and picture, its place (move up or
 * down), hiding it, linking it with the next channel as a stereo pair, and
 * its group; a group's name and members. Everything is stored in the §11
 * settings by channel id (src/client/settings.ts); the engineer's renames
 * and reorders still show wherever the musician has not set their own.
 *
 *   strip ✎ → sheet: Name [______] (engineer's: Keys)   Colour ● ● ● ● ● ● ● ● ○
 *                    Picture [Choose] [Remove]          [▲ Move up] [▼ Move down]
 *                    [Hide this strip]  [Link with CH08 as a stereo pair]
 *                    Group [None ▾]  [Names and order: the engineer's]  [Done]
 *
 * Pictures are made small on the phone (96 × 96 JPEG, a few KiB as a data
 * URL) so that 32 of them fit the page's storage.
 */
import {
  addGroup,
  type ChannelSettings,
  type ClientSettings,
  deleteGroup,
  groupOf,
  type GroupSettings,
  linkChannels,
  linkedFrom,
  MAX_IMAGE_CHARS,
  MAX_NAME_LENGTH,
  moveChannel,
  renameChannel,
  resetToEngineer,
  setChannelGroup,
  unlinkChannel,
} from "../../src/client/settings.ts";
import { onLanguageChange, t } from "../i18n/i18n.ts";
import { el, groupStrip } from "./strips.ts";

/** The strip colours to pick from (readable on the dark page, distinct for colour-blind eyes too). */
export const STRIP_COLORS: readonly string[] = [
  "#e04040",
  "#ff8a30",
  "#f2c40f",
  "#3ddc84",
  "#26c6da",
  "#3f7fff",
  "#a070ff",
  "#ff5fb0",
];
export const PICTURE_PX = 96;

export interface StripEditorDeps {
  settings(): ClientSettings;
  /** The box's mapped channels with this phone's settings, in send order. */
  active(): ChannelSettings[];
  /** The engineer's channel list as the box last sent it (names, send order). */
  engineer(): readonly { id: number; name: string }[];
  /** The layout changed: redraw the strips, remix, save. */
  changed(): void;
  /** Only the mix changed (a group's fader or mute): remix and save, the strips stay. */
  mixChanged(): void;
}

/**
 * A picture → a small square JPEG data URL (centre crop, `px` × `px`), under
 * the settings' size limit.
 */
export async function pictureDataUrl(file: Blob, px = PICTURE_PX): Promise<string> {
  const bmp = await createImageBitmap(file);
  try {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = px;
    const ctx = canvas.getContext("2d")!;
    const side = Math.min(bmp.width, bmp.height);
    ctx.drawImage(bmp, (bmp.width - side) / 2, (bmp.height - side) / 2, side, side, 0, 0, px, px);
    for (const q of [0.8, 0.6, 0.4]) {
      const url = canvas.toDataURL("image/jpeg", q);
      if (url.length <= MAX_IMAGE_CHARS) return url;
    }
    throw new Error(t("sheet_picture_too_big"));
  } finally {
    bmp.close();
  }
}

function button(text: string, cls: string, onClick: () => void, attrs = {}): HTMLButtonElement {
  const b = el("button", { type: "button", class: cls, ...attrs }, text);
  b.addEventListener("click", onClick);
  return b;
}

const two = (id: number) => String(id).padStart(2, "0");

export class StripEditor {
  private dialog: HTMLDialogElement | null = null;
  /** What the sheet shows: a channel, a group, or nothing. */
  private showing: { channel: number } | { group: number } | null = null;

  constructor(private readonly d: StripEditorDeps) {}

  /** Adds the "new group" button to the strip tools and the hidden-strips row under the strips. */
  bind(): void {
    const tools = document.querySelector(".strip-tools")!;
    tools.append(
      button(t("group_new"), "group-new", () => this.newGroup(), {
        id: "group-new",
        "data-lockable": "",
      }),
    );
    const hidden = el("div", { id: "hidden-strips", class: "hidden-strips", hidden: "" });
    document.getElementById("strips")!.after(hidden);
    onLanguageChange(() => {
      document.getElementById("group-new")!.textContent = t("group_new");
      this.renderHidden();
      this.render(); // an open sheet
    });
  }

  /** The group strips (above the channels), built for the strip list. */
  groupStrips(): HTMLElement[] {
    const byId = new Map(this.d.active().map((c) => [c.id, c]));
    return (this.d.settings().groups ?? []).map((g) => {
      const names = g.members.map((id) => byId.get(id)?.name ?? two(id)).join(", ");
      return groupStrip(
        g,
        names || t("group_empty"),
        () => this.d.mixChanged(),
        () => this.open({ group: g.id }),
      );
    });
  }

  /** The hidden strips, each with a button that shows it again. */
  renderHidden(): void {
    const row = document.getElementById("hidden-strips");
    if (!row) return;
    const hidden = this.d.active().filter((c) => c.hidden && c.receive);
    row.hidden = hidden.length === 0;
    row.replaceChildren(
      el("span", { class: "hidden-title" }, t("hidden_strips", { count: hidden.length })),
      ...hidden.map((c) =>
        button(`${two(c.id)} ${c.name}`, "show-strip", () => {
          c.hidden = false;
          this.d.changed();
        }, {
          "aria-label": t("hidden_show", { name: c.name }),
          "data-id": String(c.id),
          "data-lockable": "",
        })
      ),
    );
  }

  openChannel(id: number): void {
    this.open({ channel: id });
  }

  private newGroup(): void {
    const g = addGroup(
      this.d.settings(),
      t("group_default_name", {
        n: (this.d.settings().groups?.length ?? 0) + 1,
      }),
    );
    if (!g) return;
    this.d.changed();
    this.open({ group: g.id });
  }

  private sheet(): HTMLDialogElement {
    if (this.dialog) return this.dialog;
    const dialog = el("dialog", { class: "sheet", id: "strip-sheet" });
    dialog.addEventListener("close", () => (this.showing = null));
    // A tap outside the sheet (on the backdrop) closes it.
    dialog.addEventListener("click", (e) => {
      if (e.target === dialog) dialog.close();
    });
    document.body.append(dialog);
    this.dialog = dialog;
    return dialog;
  }

  private open(what: { channel: number } | { group: number }): void {
    this.showing = what;
    const dialog = this.sheet();
    this.render();
    if (!dialog.open) dialog.showModal();
  }

  private edited(): void {
    this.d.changed();
    this.render();
  }

  /** (Re)draws the sheet for what it shows. */
  render(): void {
    const what = this.showing;
    if (!what || !this.dialog) return;
    const content = "channel" in what
      ? this.channelSheet(what.channel)
      : this.groupSheet(what.group);
    if (!content) {
      this.dialog.close();
      return;
    }
    this.dialog.replaceChildren(...content);
  }

  private channelSheet(id: number): HTMLElement[] | null {
    const s = this.d.settings();
    const active = this.d.active();
    const ch = active.find((c) => c.id === id);
    if (!ch) return null;
    const engineerName = this.d.engineer().find((m) => m.id === id)?.name ?? ch.name;
    const title = el("h2", { id: "sheet-title" }, `${two(ch.id)} · ${ch.name}`);

    // Name
    const name = el("input", {
      id: "sheet-name",
      type: "text",
      maxlength: String(MAX_NAME_LENGTH),
      autocomplete: "off",
      value: ch.name,
    });
    const note = el("small", { class: "sheet-note" });
    const showName = () => {
      title.textContent = `${two(ch.id)} · ${ch.name}`;
      note.textContent = ch.custom_name
        ? t("sheet_engineer_name", { name: engineerName })
        : t("sheet_name_follows");
    };
    showName();
    // Not redrawn: the change comes with the blur of a tap elsewhere (Done), which must land.
    name.addEventListener("change", () => {
      renameChannel(ch, name.value, engineerName);
      name.value = ch.name;
      showName();
      this.d.changed();
    });
    const nameRow = el(
      "label",
      { class: "sheet-field" },
      el("span", {}, t("sheet_name")),
      name,
      note,
    );

    // Colour
    const swatch = (color: string | null, label: string) => {
      const b = button("", "swatch", () => {
        ch.color = color;
        this.edited();
      }, {
        "aria-label": label,
        "aria-pressed": String(ch.color === color),
        "data-color": color ?? "none",
      });
      if (color) b.style.background = color;
      return b;
    };
    const colours = el(
      "div",
      { class: "sheet-colors", role: "group", "aria-label": t("sheet_color") },
      swatch(null, t("sheet_color_none")),
      ...STRIP_COLORS.map((c, i) => swatch(c, t("sheet_color_n", { n: i + 1 }))),
    );

    // Picture
    const file = el("input", { type: "file", accept: "image/*", id: "sheet-picture" });
    const status = el("p", { class: "sheet-status" });
    file.addEventListener("change", async () => {
      const f = file.files?.[0];
      file.value = "";
      if (!f) return;
      try {
        ch.image = await pictureDataUrl(f);
        this.edited();
      } catch (e) {
        status.textContent = t("sheet_picture_failed", { reason: (e as Error).message });
      }
    });
    const picture = el(
      "div",
      { class: "sheet-row" },
      ...(ch.image ? [el("img", { class: "sheet-img", src: ch.image, alt: "" })] : []),
      el("label", { class: "file-button" }, t("sheet_picture_choose"), file),
      ...(ch.image
        ? [button(t("sheet_picture_remove"), "", () => {
          ch.image = null;
          this.edited();
        })]
        : []),
    );

    // Place
    const shown = (c: ChannelSettings) => c.receive && !c.hidden && !linkedFrom(active, c.id);
    const move = (delta: -1 | 1) => () => {
      if (moveChannel(active, id, delta, shown)) this.edited();
    };
    const place = el(
      "div",
      { class: "sheet-row" },
      button(t("sheet_move_up"), "", move(-1), { id: "sheet-up" }),
      button(t("sheet_move_down"), "", move(1), { id: "sheet-down" }),
      button(t("sheet_hide"), "", () => {
        ch.hidden = true;
        this.d.changed();
        this.dialog?.close();
      }, { id: "sheet-hide" }),
    );

    // Stereo link (with the next channel by number)
    const next = active.find((c) => c.id === id + 1);
    const linkRow = el("div", { class: "sheet-row" });
    if (ch.link) {
      linkRow.append(button(t("sheet_unlink", { a: two(id), b: two(ch.link.with) }), "", () => {
        unlinkChannel(s, id);
        this.edited();
      }, { id: "sheet-link" }));
    } else if (next && !next.link && !linkedFrom(active, id) && !linkedFrom(active, next.id)) {
      linkRow.append(button(t("sheet_link", { b: two(next.id), name: next.name }), "", () => {
        if (linkChannels(s, id, next.id)) {
          next.receive = ch.receive || next.receive;
          this.edited();
        }
      }, { id: "sheet-link" }));
    }

    // Group
    const group = el("select", { id: "sheet-group" });
    group.append(el("option", { value: "" }, t("sheet_group_none")));
    for (const g of s.groups ?? []) group.append(el("option", { value: String(g.id) }, g.name));
    group.value = String(groupOf(s, id)?.id ?? "");
    group.addEventListener("change", () => {
      setChannelGroup(s, id, group.value === "" ? null : Number(group.value));
      this.edited();
    });
    const groupRow = el("label", { class: "sheet-field" }, el("span", {}, t("sheet_group")), group);

    const reset = button(t("sheet_reset_layout"), "", () => {
      resetToEngineer(active, this.d.engineer());
      this.edited();
    }, { id: "sheet-reset" });
    const done = button(t("sheet_done"), "primary", () => this.dialog?.close(), {
      id: "sheet-done",
    });
    return [
      title,
      nameRow,
      el("h3", {}, t("sheet_color")),
      colours,
      el("h3", {}, t("sheet_picture")),
      picture,
      status,
      el("h3", {}, t("sheet_place")),
      place,
      ...(linkedFrom(active, id) ? [] : [linkRow, groupRow]),
      el("div", { class: "sheet-row sheet-end" }, reset, done),
    ];
  }

  private groupSheet(groupId: number): HTMLElement[] | null {
    const s = this.d.settings();
    const g: GroupSettings | undefined = s.groups?.find((x) => x.id === groupId);
    if (!g) return null;
    const active = this.d.active();
    const name = el("input", {
      id: "group-name",
      type: "text",
      maxlength: String(MAX_NAME_LENGTH),
      autocomplete: "off",
      value: g.name,
    });
    const title = el("h2", { id: "sheet-title" }, g.name);
    name.addEventListener("change", () => {
      g.name = name.value.trim().slice(0, MAX_NAME_LENGTH) || g.name;
      title.textContent = g.name;
      this.d.changed(); // the sheet stays as it is (see the channel's name)
    });
    const members = el("div", {
      class: "group-pick",
      role: "group",
      "aria-label": t("group_members"),
    });
    for (const c of active) {
      if (linkedFrom(active, c.id)) continue; // a pair joins by its first channel
      const box = el("input", { type: "checkbox", "data-id": String(c.id) });
      box.checked = g.members.includes(c.id);
      box.addEventListener("change", () => {
        setChannelGroup(s, c.id, box.checked ? g.id : null);
        this.edited();
      });
      const other = groupOf(s, c.id);
      members.append(
        el(
          "label",
          { class: "receive-row" },
          box,
          el(
            "span",
            {},
            `${two(c.id)}${c.link ? `/${two(c.link.with)}` : ""} · ${c.name}` +
              (other && other.id !== g.id ? ` (${other.name})` : ""),
          ),
        ),
      );
    }
    return [
      title,
      el("label", { class: "sheet-field" }, el("span", {}, t("group_name")), name),
      el("h3", {}, t("group_members")),
      members,
      el(
        "div",
        { class: "sheet-row sheet-end" },
        button(t("group_delete"), "danger", () => {
          deleteGroup(s, g.id);
          this.d.changed();
          this.dialog?.close();
        }, { id: "group-delete" }),
        button(t("sheet_done"), "primary", () => this.dialog?.close(), { id: "sheet-done" }),
      ),
    ];
  }
}
