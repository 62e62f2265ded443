import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

const fixtures = path.relative(
  process.cwd(),
  fileURLToPath(new URL('../fixtures/templates', import.meta.url)),
);

// Runs the real CLI in-process, capturing what it writes.
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
    const code = await main(['node', 'tasker', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('tasker templates validate', () => {
  afterEach(() => {
    process.exitCode = undefined;
  });

  it('prints one line per valid template and exits 0', async () => {
    const result = await run(
      'templates',
      'validate',
      'examples/payments/templates',
      path.join(fixtures, 'valid', 'shipping'),
    );
    expect(result).toEqual({
      code: 0,
      stdout:
        'ok payments/process_payment@1.0.0 (2 steps, 2 events)\nok shipping/ship_order@0.1.0 (3 steps, 0 events)\n',
      stderr: '',
    });
  });

  it('prints the one-line error and exits 1 when any template is invalid', async () => {
    const bad = path.join(fixtures, 'invalid', 'missing-dependency.yaml');
    const result = await run('templates', 'validate', 'examples/payments/templates', bad);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `tasker: ${bad}: steps[2].dependencies[0]: unknown step "chrge_card" (did you mean "charge_card"?)\n`,
    });
  });

  it('needs at least one path', async () => {
    const result = await run('templates', 'validate');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing required argument 'paths'");
  });
});
