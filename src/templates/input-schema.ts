/**
 * The template's `input_schema`: compiled when the template loads, enforced on every task
 * context when a task is created. Pure.
 */
import type { ValidateFunction } from 'ajv';
import { TaskerError } from '../errors.js';
import { compileJsonSchema, formatSchemaErrors } from './json-schema.js';
import type { TaskTemplate } from './types.js';

/** Compiles an `input_schema`; errors are TEMPLATE_INVALID prefixed with `where` (`file: input_schema`). */
export function compileInputSchema(schema: unknown, where: string): ValidateFunction {
  return compileJsonSchema(schema, where, 'TEMPLATE_INVALID');
}

/**
 * Checks a task context against the template's `input_schema` (any context passes when the
 * template has none). Throws CONTEXT_INVALID listing ajv's findings by instance path.
 */
export function validateContext(template: TaskTemplate, context: unknown): void {
  if (!template.inputSchema) return;
  // Cached by ajv per schema object, so this compiles once per template.
  const validate = compileInputSchema(template.inputSchema, `${template.source}: input_schema`);
  if (validate(context)) return;
  const id = `${template.namespace}/${template.name}@${template.version}`;
  throw new TaskerError(
    'CONTEXT_INVALID',
    `task context does not match the input_schema of ${id}: ${formatSchemaErrors(validate.errors)}`,
  );
}
