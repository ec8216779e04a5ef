/**
 * m32-server command line: `serve` (default) and `client`.
 * Thin: parses the command and hands over to src/.
 */
import { runServe, SERVE_USAGE } from "./src/cli/serve.ts";

const USAGE = `usage:
${SERVE_USAGE}

m32-server client [flags]   the reference client (m32-server client --help)`;

async function main(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  switch (cmd) {
    case undefined:
      return await runServe([]);
    case "serve":
      return await runServe(rest);
    case "client": {
      const { runClientCli } = await import("./src/client/cli.ts");
      return await runClientCli(rest);
    }
    case "help":
    case "--help":
    case "-h":
      console.log(USAGE);
      return 0;
    default:
      if (cmd.startsWith("--")) return await runServe(args);
      console.error(`unknown command "${cmd}"\n${USAGE}`);
      return 2;
  }
}

/** Runs the command line and exits with its status (also the entry of builds: .ci/bundle.ts). */
export async function runMain(args: string[]): Promise<never> {
  try {
    Deno.exit(await main(args));
  } catch (e) {
    console.error(`m32-server: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}

if (import.meta.main) await runMain(Deno.args);
