import type { Command } from 'commander';
import { registerMigrate } from './migrate.js';

/** Adds every subcommand to the program; one module per command family. */
export function registerCommands(program: Command): void {
  registerMigrate(program);
}
