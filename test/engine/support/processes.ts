/**
 * Runs the `tasker` CLI (bin/tasker.js, compiled dist/) as real OS processes for the engine
 * tests, and keeps track of them so that every one can be killed after a test, pass or fail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const BIN = path.join(ROOT, 'bin', 'tasker.js');

/** A `tasker` process started by {@link spawnTasker}. */
export interface TaskerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once `pattern` appears in its output; rejects if it exits first. */
  waitForOutput(pattern: RegExp): Promise<void>;
}

const running = new Set<TaskerProcess>();

/** Starts `node bin/tasker.js ...args` in the repository root with `env` added to this environment. */
export function spawnTasker(args: readonly string[], env: Record<string, string | undefined>): TaskerProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let all = '';
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const waiter of waiters) waiter();
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    all += chunk;
    notify();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    all += chunk;
    notify();
  });
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      done = true;
      running.delete(handle);
      notify();
      resolve({ code, signal });
    });
  });
  const handle: TaskerProcess = {
    child,
    pid: child.pid ?? -1,
    output: () => all,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (pattern.test(all)) {
            waiters.delete(check);
            resolve();
          } else if (done) {
            waiters.delete(check);
            reject(new Error(`tasker ${args.join(' ')} exited before printing ${pattern}:\n${all}`));
          }
        };
        waiters.add(check);
        check();
      }),
  };
  running.add(handle);
  return handle;
}

/** Runs a one-shot command to its end. */
export async function runTasker(
  args: readonly string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const process = spawnTasker(args, env);
  const { code } = await process.exited;
  return { code, stdout: process.stdout(), stderr: process.stderr() };
}

/** SIGKILLs every process still running and waits for them to be gone. */
export async function killAll(): Promise<void> {
  const left = [...running];
  for (const each of left) each.child.kill('SIGKILL');
  await Promise.all(left.map((each) => each.exited));
}
