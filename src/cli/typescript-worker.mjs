// Worker thread entry used when Tasker runs from its TypeScript sources (tests, benchmarks):
// loads the thread's .ts module through tsx, which a worker thread does not inherit.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.typescriptEntry, import.meta.url);
