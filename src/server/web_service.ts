/**
 * The web side of the server: plain HTTP (always), the optional HTTPS listener
 * serving the same app (src/tls/https_service.ts), and the WebTransport
 * endpoint that follows it on the HTTPS port's number over UDP
 * (src/listener/webtransport.ts). Built in two steps because the app needs
 * the HTTPS control and the WebTransport endpoint before it exists:
 * `new WebService(…)` opens nothing; `serve(app)` binds the ports.
 */
import type { ConfigStore } from "../config/store.ts";
import { WebTransportService } from "../listener/webtransport.ts";
import { HttpsService } from "../tls/https_service.ts";
import type { Clock } from "../util/clock.ts";
import { getLogger, type Logger } from "../util/log.ts";
import type { Closers } from "../util/closers.ts";

export interface WebServiceOptions {
  hostname: string;
  httpPort: number;
  /** Certificates live in `<dataDir>/tls`. */
  dataDir: string;
  /** The HTTPS setting is read from here, and applied again after every committed change. */
  store: Pick<ConfigStore, "get" | "onChange">;
  /** Clock for certificate validity and renewal. */
  clock: Clock;
  /** Whether clients are connected (a renewed page certificate then waits). */
  busy(): boolean;
  log: Logger;
  /** The UDP port pages are told for WebTransport (ServerOptions.webtransportPublicPort). */
  webtransportPublicPort?: number;
}

/** What a Hono app (or any handler) offers. */
export interface Fetcher {
  fetch(req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Response | Promise<Response>;
}

export class WebService {
  readonly https: HttpsService;
  readonly webtransport: WebTransportService;
  private app: Fetcher | null = null;
  private boundPort: number | null = null;

  constructor(private readonly opts: WebServiceOptions, private readonly closers: Closers) {
    this.https = new HttpsService({
      settings: () => opts.store.get().https,
      // Until serve() the app does not exist: the HTTPS listener is not started before then.
      handler: (req, info) =>
        this.app ? this.app.fetch(req, info) : new Response(null, { status: 503 }),
      hostname: opts.hostname,
      dir: `${opts.dataDir}/tls`,
      clock: opts.clock,
      log: getLogger("https"),
      // Swapping the listener closes its WebSockets: a renewed certificate waits for no client.
      busy: opts.busy,
    });
    closers.add("https", () => this.https.close());
    this.webtransport = new WebTransportService({
      hostname: opts.hostname,
      tls: () => this.https.tls,
      httpsPort: () => this.https.listeningPort,
      publicPort: opts.webtransportPublicPort,
      log: getLogger("webtransport"),
    });
    closers.add("webtransport", () => this.webtransport.close());
    const off = this.https.onChange(() => this.webtransport.sync());
    closers.add("webtransport follows https", off);
  }

  /** The plain HTTP port once serving (the asked one, or the one the system chose for 0). */
  get httpPort(): number {
    return this.boundPort ?? this.opts.httpPort;
  }

  /** Binds HTTP (throws e.g. AddrInUse), then brings HTTPS and WebTransport up if they are on. */
  async serve(app: Fetcher): Promise<void> {
    const { hostname, log } = this.opts;
    const http = Deno.serve({ port: this.opts.httpPort, hostname, onListen: () => {} }, app.fetch);
    this.closers.add("http", () => http.shutdown());
    this.boundPort = http.addr.port;
    log.info("http listening", { url: `http://${hostname}:${this.boundPort}/` });
    this.app = app;
    this.closers.add(
      "https follows config",
      this.opts.store.onChange(() => void this.https.apply()),
    );
    await this.https.apply();
    this.webtransport.sync();
  }
}
