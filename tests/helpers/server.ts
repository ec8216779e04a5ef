/** Starts the real server on random ports with a fresh data directory, for integration tests. */
import { type RunningServer, type ServerOptions, startServer } from "../../src/server.ts";
import { logConfig } from "../../src/util/log.ts";

/** A TCP port nobody listens on now (its UDP twin is then very likely free too). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

export interface TestServer extends RunningServer {
  dataDir: string;
  logs: string[];
  stop(): Promise<void>;
}

export async function startTestServer(opts: Partial<ServerOptions> = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? await Deno.makeTempDir({ prefix: "m32-test-" });
  const logs: string[] = [];
  logConfig.write = (line) => {
    logs.push(line);
    if (Deno.env.get("M32_TEST_LOGS")) console.error(line);
  };
  const server = await startServer({
    httpPort: 0,
    rtpPort: 0,
    hostname: "127.0.0.1",
    dataDir,
    source: "test",
    // The integration suites run on either audio plane (default: the server's, worker):
    // M32_TEST_AUDIO_PLANE=main deno test …
    audioPlane: Deno.env.get("M32_TEST_AUDIO_PLANE") === "main" ? "main" : undefined,
    ...opts,
  });
  return {
    ...server,
    dataDir,
    logs,
    async stop() {
      await server.close();
      if (!opts.dataDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}
