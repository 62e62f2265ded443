/**
 * Benchmark dispatcher: `npm run bench -- NAME…` runs the named benchmarks, no name runs them all.
 * Each benchmark is a module exporting `run(): Promise<boolean>` (true when every target held);
 * add one by adding a line to BENCHES.
 */

/** What a benchmark module exports. */
export interface BenchModule {
  /** Runs the benchmark, prints its table; resolves true when every target held. */
  run(): Promise<boolean>;
}

const BENCHES: Record<string, () => Promise<BenchModule>> = {
  queue: () => import('./queue.js'),
  workflow: () => import('./workflow.js'),
  // The PGMQ floor and durable delivery, then the fire_and_forget table, in one run.
  events: () => import('./events-durable.js'),
  telemetry: () => import('./telemetry.js'),
};

async function main(names: string[]): Promise<number> {
  const unknown = names.filter((name) => !(name in BENCHES));
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
    return 2;
  }
  let allPassed = true;
  for (const name of names.length > 0 ? names : Object.keys(BENCHES)) {
    const load = BENCHES[name];
    if (load === undefined) continue;
    const bench = await load();
    if (!(await bench.run())) allPassed = false;
  }
  return allPassed ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
