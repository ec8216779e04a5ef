/**
 * Cost of reading the configuration: µs per `ConfigStore.get()` and
 * `getChannels()` on a file database (WAL, as on the appliance), and of the
 * first `get()` after a transaction (the cache refilled from SQLite).
 *
 *   deno run -A bench/config_store_bench.ts [iterations=20000]
 */
import { ConfigStore } from "../src/config/store.ts";

export interface ConfigStoreBench {
  getUs: number;
  getChannelsUs: number;
  getAfterWriteUs: number;
}

function usPer(n: number, fn: () => void): number {
  for (let i = 0; i < Math.min(n, 1000); i++) fn(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  return ((performance.now() - t0) * 1000) / n;
}

export function benchConfigStore(iterations = 20_000): ConfigStoreBench {
  const dir = Deno.makeTempDirSync({ prefix: "m32-store-bench-" });
  const store = ConfigStore.open(dir);
  try {
    const getUs = usPer(iterations, () => store.get());
    const getChannelsUs = usPer(iterations, () => store.getChannels());
    // An empty transaction drops the cache without a write's fsync: time the refill alone.
    let refill = 0;
    const refills = Math.max(20, Math.floor(iterations / 20));
    for (let i = 0; i < refills; i++) {
      store.tx(() => {});
      const t0 = performance.now();
      store.get();
      refill += performance.now() - t0;
    }
    return { getUs, getChannelsUs, getAfterWriteUs: (refill * 1000) / refills };
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const n = Number(Deno.args[0] ?? 20_000);
  const r = benchConfigStore(n);
  console.log(`ConfigStore (${n} reads)`);
  console.log(`  get()                      ${r.getUs.toFixed(2)} µs`);
  console.log(`  getChannels()              ${r.getChannelsUs.toFixed(2)} µs`);
  console.log(`  get() refill (after a tx)  ${r.getAfterWriteUs.toFixed(2)} µs`);
}
