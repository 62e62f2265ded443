/**
 * JSON Schema compilation shared by task input schemas and event payload schemas: draft 2020-12
 * by default, draft-07 when `$schema` says so, formats from ajv-formats. Pure (in-memory only).
 */
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { TaskerError, type TaskerErrorCode } from '../errors.js';

/** The JSON Schema drafts Tasker compiles. */
export type JsonSchemaDraft = '2020-12' | 'draft-07';

const DRAFT_URIS: ReadonlyMap<string, JsonSchemaDraft> = new Map([
  ['https://json-schema.org/draft/2020-12/schema', '2020-12'],
  ['http://json-schema.org/draft-07/schema', 'draft-07'],
]);

const AJV_OPTIONS: Options = {
  allErrors: true,
  // Schemas with the same `$id` in two templates must not collide in a shared instance.
  addUsedSchema: false,
  // Unknown keywords (a typo such as `requried`) and unknown formats are errors, caught at load;
  // type and tuple strictness stay off because they refuse valid schemas.
  strict: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
};

// Validators by schema object: templates are immutable, so a schema compiles once.
const compiled = new WeakMap<object, ValidateFunction>();

let instances: { '2020-12': Ajv2020; 'draft-07': Ajv } | undefined;

function ajvFor(draft: JsonSchemaDraft): Ajv | Ajv2020 {
  if (!instances) {
    const modern = new Ajv2020(AJV_OPTIONS);
    const legacy = new Ajv(AJV_OPTIONS);
    addFormatsModule.default(modern);
    addFormatsModule.default(legacy);
    instances = { '2020-12': modern, 'draft-07': legacy };
  }
  return instances[draft];
}

/** The draft a schema is written in, from its `$schema` (2020-12 when absent); undefined when unsupported. */
export function schemaDraft(schema: object): JsonSchemaDraft | undefined {
  const declared = (schema as { $schema?: unknown }).$schema;
  if (declared === undefined) return '2020-12';
  if (typeof declared !== 'string') return undefined;
  // The canonical URIs, with or without the trailing `#`: those are the spellings ajv resolves.
  return DRAFT_URIS.get(declared.replace(/#$/, ''));
}

/**
 * Compiles `schema` to a validator, or throws `code` with `where: ...` naming the problem.
 * Compiling the same schema object again returns the cached validator.
 */
export function compileJsonSchema(schema: unknown, where: string, code: TaskerErrorCode): ValidateFunction {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new TaskerError(code, `${where}: must be a JSON Schema mapping`);
  }
  const cached = compiled.get(schema);
  if (cached) return cached;
  const draft = schemaDraft(schema);
  if (!draft) {
    const declared = JSON.stringify((schema as { $schema?: unknown }).$schema);
    throw new TaskerError(
      code,
      `${where}: unsupported $schema ${declared} (use ${[...DRAFT_URIS.keys()].join(' or ')})`,
    );
  }
  const ajv = ajvFor(draft);
  // Check against the meta-schema first: its first error is clearer than ajv's combined message.
  if (!ajv.validateSchema(schema)) {
    const first = ajv.errors?.[0];
    const at = first?.instancePath ? ` at ${first.instancePath}` : '';
    throw new TaskerError(
      code,
      `${where}: not a valid JSON Schema (${draft})${at}: ${first?.message ?? 'invalid'}`,
    );
  }
  try {
    const validate = ajv.compile(schema);
    compiled.set(schema, validate);
    return validate;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new TaskerError(code, `${where}: schema does not compile: ${message.split('\n')[0] ?? message}`, {
      cause: error,
    });
  }
}

/** One line from ajv's errors: `/amount must be number; (root) must have required property 'currency'`. */
export function formatSchemaErrors(errors: readonly ErrorObject[] | null | undefined, limit = 5): string {
  if (!errors || errors.length === 0) return 'does not match the schema';
  const parts = errors.slice(0, limit).map((error) => {
    const at = error.instancePath === '' ? '(root)' : error.instancePath;
    const params = error.params as { additionalProperty?: unknown; allowedValues?: unknown };
    let detail = '';
    if (params.additionalProperty !== undefined) detail = ` (${JSON.stringify(params.additionalProperty)})`;
    else if (Array.isArray(params.allowedValues))
      detail = ` (${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')})`;
    return `${at} ${error.message ?? 'is invalid'}${detail}`;
  });
  if (errors.length > limit) parts.push(`and ${errors.length - limit} more`);
  return parts.join('; ');
}
