import type { Command } from 'commander';
import { formatTemplateId } from '../../templates/registry.js';
import { loadTemplates } from '../../templates/load.js';
import type { TaskTemplate } from '../../templates/types.js';

/** `tasker templates validate PATH…`: loads templates and prints one line per valid template. */
export function registerTemplates(program: Command): void {
  const templates = program.command('templates').description('work with task templates');
  templates
    .command('validate')
    .description('validate task templates (YAML files or directories searched recursively)')
    .argument('<paths...>', 'template files (.yaml, .yml) or directories')
    .action(async (paths: string[]) => {
      // Any invalid template throws a TaskerError: one line, exit 1, nothing printed as ok.
      const registry = await loadTemplates(paths);
      const lines = registry
        .all()
        .map((template) => `ok ${formatTemplateId(template)} (${summary(template)})\n`);
      process.stdout.write(lines.join(''));
    });
}

function summary(template: TaskTemplate): string {
  const steps = template.steps.length;
  const events = new Set(template.steps.flatMap((step) => step.publishesEvents.map((event) => event.name)))
    .size;
  return `${steps} ${steps === 1 ? 'step' : 'steps'}, ${events} ${events === 1 ? 'event' : 'events'}`;
}
