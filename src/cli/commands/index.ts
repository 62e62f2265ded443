import type { Command } from 'commander';
import { registerCodegen } from './codegen.js';
import { registerConfig } from './config.js';
import { registerDemo } from './demo.js';
import { registerEngine } from './engine.js';
import { registerEvents } from './events.js';
import { registerMigrate } from './migrate.js';
import { registerTasks } from './tasks.js';
import { registerTemplates } from './templates.js';

/** Adds every subcommand to the program; one module per command family. */
export function registerCommands(program: Command): void {
  registerMigrate(program);
  registerCodegen(program);
  registerConfig(program);
  registerDemo(program);
  registerEngine(program);
  registerEvents(program);
  registerTasks(program);
  registerTemplates(program);
}
