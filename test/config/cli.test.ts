import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { makeConfigRoot, removeConfigRoots } from './config-fixtures.js';

const REPO_ROOT = join(import.meta.dirname, '..', '..', 'config', 'tasker');
const savedEnv = { ...process.env };

afterEach(() => {
  process.env = { ...savedEnv };
});
afterAll(removeConfigRoots);

/** Runs the CLI in this process and captures what it writes. */
async function runCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const writeOut = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  const text = (chunk: string | Uint8Array) =>
    typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
  process.stdout.write = (chunk: string | Uint8Array) => out.push(text(chunk)) > 0;
  process.stderr.write = (chunk: string | Uint8Array) => err.push(text(chunk)) > 0;
  try {
    const code = await main(['node', 'tasker', ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
}

describe('tasker config show', () => {
  it('prints the merged production configuration as TOML', async () => {
    process.env.TASKER_CONFIG_ROOT = REPO_ROOT;
    const { code, stdout, stderr } = await runCli('config', 'show', '--env', 'production');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`environment production`);
    const printed = parseToml(stdout) as {
      events: { fire_and_forget: { buffer_size: number }; durable: Record<string, unknown> };
    };
    expect(printed.events.fire_and_forget.buffer_size).toBe(10000);
    expect(printed.events.durable).toMatchObject({ max_delivery_attempts: 5, dlq_retention_days: 30 });
  });

  it('prints JSON with --json and applies TASKER_ENV and TASKER__ variables', async () => {
    process.env.TASKER_CONFIG_ROOT = REPO_ROOT;
    process.env.TASKER_ENV = 'production';
    process.env.TASKER__WORKER__CONCURRENCY = '3';
    const { code, stdout } = await runCli('config', 'show', '--json');
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as {
      events: { durable: { dlq_retention_days: number } };
      worker: object;
    };
    expect(printed.events.durable.dlq_retention_days).toBe(30);
    expect(printed.worker).toMatchObject({ concurrency: 3 });
  });

  it('exits 1 with one line naming file, key and expected type for a bad file', async () => {
    const root = await makeConfigRoot({ 'base/events.toml': '[events.durable]\ndlq_enabled = "yes"\n' });
    process.env.TASKER_CONFIG_ROOT = root;
    const { code, stdout, stderr } = await runCli('config', 'show');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `tasker: ${join(root, 'base', 'events.toml')}: events.durable.dlq_enabled: expected a boolean, got "yes"\n`,
    );
  });

  it('exits 1 with one line for a broken TOML file and for an unknown --env', async () => {
    const root = await makeConfigRoot({ 'base/events.toml': '[events\n' });
    process.env.TASKER_CONFIG_ROOT = root;
    const broken = await runCli('config', 'show');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^tasker: .*base\/events\.toml:1:8: Invalid TOML document: [^\n]+\n$/);
    process.env.TASKER_CONFIG_ROOT = REPO_ROOT;
    const unknown = await runCli('config', 'show', '--env', 'staging');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      `tasker: ${join(REPO_ROOT, 'environments', 'staging')}: no such directory for environment "staging" ` +
        '(environments: production, test)\n',
    );
  });
});
