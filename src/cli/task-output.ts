import type { TaskView } from '../persistence/task-store.js';

function short(value: unknown, width = 60): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** A task for people: one header line and a line per step. */
export function formatTask(task: TaskView): string {
  const lines = [`${task.namespace}/${task.name}@${task.version} ${task.task_uuid}: ${task.status}`];
  const width = Math.max(...task.steps.map((step) => step.name.length), 4);
  for (const step of task.steps) {
    const detail =
      step.error && step.state !== 'complete'
        ? short((step.error as { message?: unknown }).message ?? step.error)
        : short(step.result);
    lines.push(`  ${step.name.padEnd(width)}  ${step.state.padEnd(12)} attempts=${step.attempts}  ${detail}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Prints a task as JSON (`--json`, DESIGN.md shape) or for people. */
export function printTask(task: TaskView, json: boolean): void {
  process.stdout.write(json ? `${JSON.stringify(task, null, 2)}\n` : formatTask(task));
}
