import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { generateEventTypes } from '../../codegen/event-types.js';
import { TaskerError } from '../../errors.js';
import { loadTemplates } from '../../templates/load.js';

/** Refuses an output path that is not a TypeScript module in an existing directory. */
async function checkOut(out: string): Promise<void> {
  if (!/\.(c|m)?ts$/.test(out) || out.endsWith('.d.ts')) {
    throw new TaskerError('USAGE', `--out ${out}: expected a .ts, .mts or .cts module (not a .d.ts)`);
  }
  const directory = path.dirname(out);
  const info = await stat(directory).catch(() => undefined);
  if (!info?.isDirectory()) throw new TaskerError('USAGE', `--out ${out}: no such directory ${directory}`);
}

/** Writes `text` to a temporary file beside `out`, then renames it: never a half-written file. */
async function writeAtomically(out: string, text: string): Promise<void> {
  const temporary = path.join(
    path.dirname(out),
    `.${path.basename(out)}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    await writeFile(temporary, text, 'utf8');
    await rename(temporary, out);
  } catch (error) {
    await rm(temporary, { force: true });
    const reason = error instanceof Error ? error.message : String(error);
    throw new TaskerError('USAGE', `--out ${out}: cannot write (${reason})`, { cause: error });
  }
}

/** `tasker codegen TEMPLATES… --out FILE [--check]`: typed domain events for handlers. */
export function registerCodegen(program: Command): void {
  program
    .command('codegen')
    .description('write TypeScript types of declared domain event payloads and typed publishers')
    .argument('<templates...>', 'template files (.yaml, .yml) or directories')
    .requiredOption('--out <file>', 'the TypeScript module to write')
    .option('--check', 'write nothing; exit 1 when the file is not what would be written')
    .action(async (paths: string[], options: { out: string; check?: boolean }) => {
      await checkOut(options.out);
      const registry = await loadTemplates(paths);
      const generated = generateEventTypes(registry.all());
      if (options.check) {
        const current = await readFile(options.out, 'utf8').catch(() => undefined);
        if (current === generated.text) {
          process.stdout.write(`${options.out} is up to date\n`);
        } else {
          process.stderr.write(
            `tasker: ${options.out} is ${current === undefined ? 'missing' : 'out of date'}; run tasker codegen without --check\n`,
          );
          process.exitCode = 1;
        }
        return;
      }
      await writeAtomically(options.out, generated.text);
      const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
      process.stdout.write(
        `wrote ${options.out}: ${plural(generated.payloadTypes, 'payload type')}, ${plural(generated.steps, 'publishing step')}\n`,
      );
      for (const name of generated.conflicts) {
        process.stdout.write(
          `note: ${name} has different schemas in different namespaces; it is typed per namespace (NamespaceEventPayloads)\n`,
        );
      }
    });
}
