import { Command, CommanderError } from 'commander';
import { isTaskerError } from '../errors.js';
import { setLogLevel } from '../logging/logger.js';
import { registerCommands } from './commands/index.js';

/**
 * Runs the `tasker` CLI and resolves to its exit code. Errors Tasker raises on purpose become
 * one line on stderr; anything else too, with the stack only under `--verbose`.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('tasker')
    .description('Workflow orchestration on PostgreSQL with a two-tier distributed event system')
    .option('-v, --verbose', 'log progress and errors in detail (TASKER_LOG_LEVEL=debug)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .hook('preAction', (command) => {
      if (command.opts<{ verbose?: boolean }>().verbose) setLogLevel('debug');
    });
  registerCommands(program);

  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage mistakes were already printed by commander.
      return error.exitCode === 0 ? 0 : 2;
    }
    const verbose = program.opts<{ verbose?: boolean }>().verbose === true;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`tasker: ${message}\n`);
    if (verbose && !isTaskerError(error) && error instanceof Error && error.stack) {
      process.stderr.write(`${error.stack}\n`);
    }
    return 1;
  }
}
