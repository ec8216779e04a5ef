/**
 * The address a phone should open, and its QR code as SVG
 * (qrcode-generator). The URL names a LAN IPv4 of this machine — never
 * localhost, which on a phone means the phone.
 */
import qrcode from "qrcode-generator";
import type { QrAnswer } from "./api_types.ts";

/** Error correction M (15 %): survives a smudged screen, still small. */
const QR_ERROR_CORRECTION = "M";
const QR_CELL_PX = 4;
const QR_MARGIN_CELLS = 4;

export type { QrAnswer };

export function qrSvg(text: string): string {
  const q = qrcode(0, QR_ERROR_CORRECTION);
  q.addData(text);
  q.make();
  return q.createSvgTag({ cellSize: QR_CELL_PX, margin: QR_MARGIN_CELLS, scalable: true });
}

export function phoneUrl(address: string, httpPort: number): string {
  return `http://${address}:${httpPort}/`;
}

/**
 * The secure page's addresses: one per LAN IPv4, then the box's mDNS name
 * (what the page certificate is made for, besides the addresses).
 */
export function httpsUrls(
  addresses: readonly string[],
  httpsPort: number,
  mdnsName: string,
): string[] {
  return [...addresses, mdnsName].map((a) => `https://${a}:${httpsPort}/`);
}

/**
 * `httpsPort` is the HTTPS listener's port while it is up (else null);
 * `mdnsName` the name phones may use instead of the address.
 */
export function qrAnswer(
  addresses: readonly string[],
  httpPort: number,
  httpsPort: number | null = null,
  mdnsName = "m32-server.local",
): QrAnswer {
  if (addresses.length === 0) {
    return {
      url: null,
      svg: null,
      addresses: [],
      note: "this server has no LAN IPv4 address; connect it to the musicians' network",
      https: null,
    };
  }
  const url = phoneUrl(addresses[0], httpPort);
  let https: QrAnswer["https"] = null;
  if (httpsPort !== null) {
    const urls = httpsUrls(addresses, httpsPort, mdnsName);
    https = { url: urls[0], svg: qrSvg(urls[0]), urls };
  }
  return {
    url,
    svg: qrSvg(url),
    addresses: [...addresses],
    note: addresses.length > 1 ? "the server has several addresses; the code uses the first" : null,
    https,
  };
}
