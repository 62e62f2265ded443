/**
 * `tasker codegen TEMPLATES… --out FILE [--check]`, run in-process through the real CLI.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { generateEventTypes } from '../../src/codegen/event-types.js';
import { loadTemplates } from '../../src/templates/load.js';

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await main(['node', 'tasker', ...args]), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('tasker codegen', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tasker-codegen-'));
  });

  afterEach(() => {
    process.exitCode = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the generated module and says what it holds', async () => {
    const out = path.join(dir, 'events.ts');
    const result = await run('codegen', 'examples/payments/templates', '--out', out);
    expect(result).toEqual({
      code: 0,
      stdout: `wrote ${out}: 2 payload types, 2 publishing steps\n`,
      stderr: '',
    });
    const expected = generateEventTypes((await loadTemplates(['examples/payments/templates'])).all()).text;
    expect(readFileSync(out, 'utf8')).toBe(expected);
    expect(readdirSync(dir)).toEqual(['events.ts']); // no temporary file left behind
  });

  it('notes names typed per namespace', async () => {
    const out = path.join(dir, 'events.ts');
    const result = await run('codegen', 'test/fixtures/codegen/templates', '--out', out);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'note: invoice.sent has different schemas in different namespaces; it is typed per namespace (NamespaceEventPayloads)\n',
    );
  });

  it('--check passes on an up-to-date file and fails, writing nothing, on a stale one', async () => {
    const out = path.join(dir, 'events.ts');
    expect((await run('codegen', 'examples/payments/templates', '--out', out)).code).toBe(0);
    expect(await run('codegen', 'examples/payments/templates', '--out', out, '--check')).toEqual({
      code: 0,
      stdout: `${out} is up to date\n`,
      stderr: '',
    });
    writeFileSync(out, '// edited by hand\n');
    expect(await run('codegen', 'examples/payments/templates', '--out', out, '--check')).toEqual({
      code: 1,
      stdout: '',
      stderr: `tasker: ${out} is out of date; run tasker codegen without --check\n`,
    });
    expect(readFileSync(out, 'utf8')).toBe('// edited by hand\n');
  });

  it('refuses an invalid template and leaves the previous file as it was', async () => {
    const out = path.join(dir, 'events.ts');
    writeFileSync(out, '// previous\n');
    const bad = 'test/fixtures/templates/invalid/missing-dependency.yaml';
    const result = await run('codegen', 'examples/payments/templates', bad, '--out', out);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^tasker: test\/fixtures\/templates\/invalid\/missing-dependency\.yaml: steps\[2\]/,
    );
    expect(readFileSync(out, 'utf8')).toBe('// previous\n');
  });

  it.each([
    ['events.d.ts', 'expected a .ts, .mts or .cts module (not a .d.ts)'],
    ['events.json', 'expected a .ts, .mts or .cts module (not a .d.ts)'],
    ['missing/events.ts', 'no such directory '],
  ])('refuses --out %s', async (name, message) => {
    const out = path.join(dir, name);
    const result = await run('codegen', 'examples/payments/templates', '--out', out);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: '' });
    expect(result.stderr).toBe(
      `tasker: --out ${out}: ${message}${name.startsWith('missing') ? path.dirname(out) : ''}\n`,
    );
    expect(existsSync(out)).toBe(false);
  });
});
