/**
 * Vitest global setup: compiles dist/ (what bin/tasker.js and every spawned `tasker` process
 * run) once, before any test file starts. Test files run in parallel, so a file compiling on
 * its own would rewrite dist/ while another file's processes load it.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export default async function buildCli(): Promise<void> {
  try {
    await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT });
  } catch (error) {
    const output = (error as { stdout?: string }).stdout ?? String(error);
    throw new Error(`tsc -p tsconfig.build.json failed; the spawned CLI would run stale code:\n${output}`);
  }
}
