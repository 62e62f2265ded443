/**
 * Vitest global setup: compiles dist/ (what bin/tasker.js and every spawned `tasker` process
 * run) before any test file starts, when src/ changed since the last compile. Test files run in
 * parallel, so a file compiling on its own would rewrite dist/ while another file's processes
 * load it.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Touched with the start time of the last compile made here. */
const STAMP = path.join(ROOT, 'dist', '.tests-build.stamp');

function newestChange(entry: string): number {
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(entry).map((name) => newestChange(path.join(entry, name))));
}

function lastBuild(): number {
  try {
    return statSync(STAMP).mtimeMs;
  } catch {
    return 0;
  }
}

async function buildIfStale(): Promise<void> {
  const sources = Math.max(
    ...['src', 'tsconfig.json', 'tsconfig.build.json'].map((entry) => newestChange(path.join(ROOT, entry))),
  );
  if (sources < lastBuild()) return;
  // Stamped with the start: a source saved during the compile makes the next run compile again.
  const started = new Date();
  try {
    await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT });
  } catch (error) {
    const output = (error as { stdout?: string }).stdout ?? String(error);
    throw new Error(
      `tsc -p tsconfig.build.json reported errors; fix them before running the tests:\n${output}`,
    );
  }
  mkdirSync(path.dirname(STAMP), { recursive: true });
  writeFileSync(STAMP, '');
  utimesSync(STAMP, started, started);
}

export default async function setup(project: TestProject): Promise<void> {
  await buildIfStale();
  // Watch mode: compile again before a rerun when src/ changed.
  project.onTestsRerun(buildIfStale);
}
