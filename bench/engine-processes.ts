import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A `tasker` CLI process started by a benchmark. */
export interface TaskerProcess {
  child: ChildProcess;
  /** SIGTERM, then wait for exit. */
  stop(): Promise<void>;
}

/**
 * Starts `node bin/tasker.js ARGS…` against `databaseUrl`, resolving once it reports that it
 * is running (its "running" line on stderr). Needs `npm run build` first.
 */
export function startTasker(
  args: readonly string[],
  databaseUrl: string,
  env: NodeJS.ProcessEnv = {},
): Promise<TaskerProcess> {
  const child = spawn(process.execPath, ['bin/tasker.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('running')) {
        resolve({
          child,
          async stop() {
            child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`tasker ${args.join(' ')} exited ${code}: ${stderr.trim()}`)),
    );
  });
}
