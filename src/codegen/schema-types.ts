/**
 * JSON Schema (draft 2020-12 and draft-07, as event payload schemas are written) to
 * TypeScript type text, for `tasker codegen`. Pure: no I/O.
 *
 * What maps to what:
 * - `type` (one or a list): string, number and integer → number, boolean, null, array, object;
 *   without `type`, object keywords (`properties`, `required`, `additionalProperties`) mean an
 *   object and array keywords (`items`, `prefixItems`) an array.
 * - `const` → a literal type, `enum` → a union of literals (both win over `type`).
 * - `properties` / `required` → fields, optional unless required; properties in name order.
 *   Objects are closed unless the schema opens them: without `additionalProperties` an unknown
 *   field is a compile error (that is how a typo is caught), although the schema itself would
 *   accept it; `additionalProperties: true` or a schema adds an index signature.
 * - `items` → `T[]`; `prefixItems` (or a draft-07 `items` list) → a tuple whose elements past
 *   `minItems` are optional, with `items` (or `additionalItems`) as its rest.
 * - `anyOf` / `oneOf` → a union, `allOf` → an intersection, each also intersected with the
 *   schema's own type; a local `$ref` (`#/$defs/...`, `#/definitions/...`) is inlined.
 * - `true` or `{}` → `unknown`, `false` → `never`.
 * Constraints TypeScript cannot express (formats, patterns, ranges, lengths, `not`,
 * `if`/`then`/`else`, ...) leave the type as it is: ajv checks them when the event is published.
 * Keywords that can let through values the type above would refuse (`patternProperties`,
 * `dependentSchemas`, `unevaluatedProperties`, remote `$ref`, ...) turn their schema into
 * `unknown` with a comment naming them.
 */

/** A TypeScript type, before printing. */
export type TsType =
  | {
      readonly kind: 'keyword';
      readonly name: 'string' | 'number' | 'boolean' | 'null' | 'undefined' | 'unknown' | 'never';
    }
  | { readonly kind: 'literal'; readonly value: unknown }
  | { readonly kind: 'array'; readonly element: TsType }
  | {
      readonly kind: 'tuple';
      readonly elements: readonly TsType[];
      readonly required: number;
      readonly rest?: TsType;
    }
  | { readonly kind: 'object'; readonly properties: readonly TsProperty[]; readonly index?: TsType }
  | { readonly kind: 'union'; readonly members: readonly TsType[] }
  | { readonly kind: 'intersection'; readonly members: readonly TsType[] }
  | { readonly kind: 'unsupported'; readonly reason: string };

/** One field of an object type. */
export interface TsProperty {
  readonly name: string;
  readonly type: TsType;
  readonly optional: boolean;
  readonly description?: string;
}

/** Keywords that only annotate or constrain values: the type stays as it is without them. */
const IGNORED_KEYWORDS = new Set([
  '$schema',
  '$id',
  '$anchor',
  '$dynamicAnchor',
  '$comment',
  '$defs',
  '$vocabulary',
  'definitions',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  'format',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
  'uniqueItems',
  'contains',
  'minContains',
  'maxContains',
  'minProperties',
  'maxProperties',
  'propertyNames',
  'dependentRequired',
  'not',
  'if',
  'then',
  'else',
  'contentEncoding',
  'contentMediaType',
  'contentSchema',
]);

/** Keywords the converter turns into types. Anything else makes the schema `unknown`. */
const SUPPORTED_KEYWORDS = new Set([
  'type',
  'const',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'prefixItems',
  'additionalItems',
  'anyOf',
  'oneOf',
  'allOf',
  '$ref',
]);

const OBJECT_KEYWORDS = ['properties', 'required', 'additionalProperties'];
const ARRAY_KEYWORDS = ['items', 'prefixItems', 'additionalItems'];

const UNKNOWN: TsType = { kind: 'keyword', name: 'unknown' };
const NEVER: TsType = { kind: 'keyword', name: 'never' };

type Schema = boolean | Record<string, unknown>;

/** Converts a payload schema to a type; `$ref`s resolve against this schema as the root. */
export function schemaToType(schema: unknown): TsType {
  return convert(schema, { root: schema, resolving: [] });
}

interface Scope {
  readonly root: unknown;
  /** `$ref`s being inlined, outermost first: a repeat is a recursive schema. */
  readonly resolving: readonly string[];
}

function isSchemaObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function convert(schema: unknown, scope: Scope): TsType {
  if (schema === true) return UNKNOWN;
  if (schema === false) return NEVER;
  if (!isSchemaObject(schema)) return { kind: 'unsupported', reason: 'not a JSON Schema' };
  const unsupported = Object.keys(schema)
    .filter((key) => !SUPPORTED_KEYWORDS.has(key) && !IGNORED_KEYWORDS.has(key))
    .sort();
  if (unsupported.length > 0) {
    const plural = unsupported.length > 1 ? 's' : '';
    return {
      kind: 'unsupported',
      reason: `unsupported JSON Schema keyword${plural}: ${unsupported.join(', ')}`,
    };
  }
  const parts: TsType[] = [];
  if (typeof schema.$ref === 'string') parts.push(reference(schema.$ref, scope));
  const own = ownType(schema, scope);
  if (own !== undefined) parts.push(own);
  if (Array.isArray(schema.allOf)) parts.push(...schema.allOf.map((item) => convert(item, scope)));
  for (const key of ['anyOf', 'oneOf'] as const) {
    const list = schema[key];
    if (Array.isArray(list)) parts.push(union(list.map((item) => convert(item, scope))));
  }
  return intersection(parts);
}

/** The type given by `const`, `enum` or `type` (or implied by keywords); undefined when none. */
function ownType(schema: Record<string, unknown>, scope: Scope): TsType | undefined {
  if (Object.hasOwn(schema, 'const')) return { kind: 'literal', value: schema.const };
  if (Array.isArray(schema.enum)) {
    return union((schema.enum as unknown[]).map((value) => ({ kind: 'literal', value })));
  }
  const types = typesOf(schema);
  if (types === undefined) {
    const combined = ['$ref', 'allOf', 'anyOf', 'oneOf'].some((key) => Object.hasOwn(schema, key));
    return combined ? undefined : UNKNOWN;
  }
  return union(types.map((type) => typeFor(type, schema, scope)));
}

function typesOf(schema: Record<string, unknown>): string[] | undefined {
  if (typeof schema.type === 'string') return [schema.type];
  if (Array.isArray(schema.type))
    return schema.type.filter((type): type is string => typeof type === 'string');
  if (OBJECT_KEYWORDS.some((key) => Object.hasOwn(schema, key))) return ['object'];
  if (ARRAY_KEYWORDS.some((key) => Object.hasOwn(schema, key))) return ['array'];
  return undefined;
}

function typeFor(type: string, schema: Record<string, unknown>, scope: Scope): TsType {
  switch (type) {
    case 'string':
    case 'boolean':
    case 'null':
      return { kind: 'keyword', name: type };
    case 'number':
    case 'integer':
      return { kind: 'keyword', name: 'number' };
    case 'array':
      return arrayType(schema, scope);
    case 'object':
      return objectType(schema, scope);
    default:
      return { kind: 'unsupported', reason: `unknown type ${JSON.stringify(type)}` };
  }
}

function arrayType(schema: Record<string, unknown>, scope: Scope): TsType {
  // Draft-07 writes a tuple as an `items` list followed by `additionalItems`; 2020-12 as
  // `prefixItems` followed by `items`.
  const [prefix, after] = Array.isArray(schema.items)
    ? [schema.items as unknown[], schema.additionalItems]
    : Array.isArray(schema.prefixItems)
      ? [schema.prefixItems as unknown[], schema.items]
      : [undefined, schema.items];
  if (prefix === undefined) {
    return { kind: 'array', element: after === undefined ? UNKNOWN : convert(after, scope) };
  }
  const minItems = typeof schema.minItems === 'number' ? schema.minItems : 0;
  const rest = after === false ? undefined : after === undefined ? UNKNOWN : convert(after, scope);
  return {
    kind: 'tuple',
    elements: prefix.map((item) => convert(item, scope)),
    required: Math.min(minItems, prefix.length),
    ...(rest === undefined ? {} : { rest }),
  };
}

function objectType(schema: Record<string, unknown>, scope: Scope): TsType {
  const declared = isSchemaObject(schema.properties) ? schema.properties : {};
  const required = new Set(
    Array.isArray(schema.required)
      ? schema.required.filter((name): name is string => typeof name === 'string')
      : [],
  );
  const names = [...new Set([...Object.keys(declared), ...required])].sort(compareText);
  const properties: TsProperty[] = names.map((name) => {
    const property = declared[name] as Schema | undefined;
    const description =
      isSchemaObject(property) && typeof property.description === 'string' ? property.description : undefined;
    return {
      name,
      type: property === undefined ? UNKNOWN : convert(property, scope),
      optional: !required.has(name),
      ...(description === undefined ? {} : { description }),
    };
  });
  const additional = schema.additionalProperties;
  // Closed by default (see the module comment); an object without any field is a record.
  if (additional === undefined || additional === false) {
    if (properties.length > 0) return { kind: 'object', properties };
    return { kind: 'object', properties, index: additional === false ? NEVER : UNKNOWN };
  }
  // An index signature must admit every declared field's type too (and `undefined` for an
  // optional one).
  const members = [convert(additional, scope), ...properties.map((property) => property.type)];
  if (properties.some((property) => property.optional)) members.push({ kind: 'keyword', name: 'undefined' });
  const index = union(members);
  return { kind: 'object', properties, index };
}

/** Inlines a local `$ref`; a recursive or remote one is `unknown`. */
function reference(ref: string, scope: Scope): TsType {
  if (!ref.startsWith('#')) return { kind: 'unsupported', reason: `$ref ${ref} is not local to the schema` };
  if (scope.resolving.includes(ref)) return { kind: 'unsupported', reason: `recursive $ref ${ref}` };
  const target = resolvePointer(scope.root, ref.slice(1));
  if (target === undefined) return { kind: 'unsupported', reason: `$ref ${ref} cannot be resolved` };
  return convert(target, { root: scope.root, resolving: [...scope.resolving, ref] });
}

/** Follows a JSON Pointer (`/$defs/money`) through `root`; undefined when it leads nowhere. */
function resolvePointer(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  if (!pointer.startsWith('/')) return undefined; // `#anchor` references are not resolved
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^\d+$/.test(key)) node = node[Number(key)];
    else if (isSchemaObject(node) && Object.hasOwn(node, key)) node = node[key];
    else return undefined;
  }
  return node;
}

/** A union without duplicates (by printed form), flattened; one member stands alone. */
function union(members: readonly TsType[]): TsType {
  const flat = members.flatMap((member) => (member.kind === 'union' ? member.members : [member]));
  if (flat.some((member) => member.kind === 'keyword' && member.name === 'unknown')) return UNKNOWN;
  const kept = dedupe(flat.filter((member) => !(member.kind === 'keyword' && member.name === 'never')));
  if (kept.length === 0) return NEVER;
  return kept.length === 1 ? kept[0]! : { kind: 'union', members: kept };
}

/** An intersection without `unknown` members or duplicates; one member stands alone. */
function intersection(members: readonly TsType[]): TsType {
  const flat = members.flatMap((member) => (member.kind === 'intersection' ? member.members : [member]));
  const kept = dedupe(flat.filter((member) => !(member.kind === 'keyword' && member.name === 'unknown')));
  if (kept.length === 0) return UNKNOWN;
  return kept.length === 1 ? kept[0]! : { kind: 'intersection', members: kept };
}

function dedupe(members: readonly TsType[]): TsType[] {
  const seen = new Set<string>();
  return members.filter((member) => {
    const text = printType(member, '');
    if (seen.has(text)) return false;
    seen.add(text);
    return true;
  });
}

/**
 * TypeScript source of a type. Object types span lines, indented from `indent` (the
 * indentation of the line the type starts on), as prettier lays them out.
 */
export function printType(type: TsType, indent: string): string {
  switch (type.kind) {
    case 'keyword':
      return type.name;
    case 'literal':
      return printLiteral(type.value);
    case 'unsupported':
      return `unknown /* ${commentText(type.reason)} */`;
    case 'array':
      return `${wrap(type.element, indent)}[]`;
    case 'tuple': {
      const elements = type.elements.map(
        (element, index) => `${printType(element, indent)}${index >= type.required ? '?' : ''}`,
      );
      if (type.rest !== undefined) elements.push(`...${wrap(type.rest, indent)}[]`);
      return `[${elements.join(', ')}]`;
    }
    case 'union':
      return type.members.map((member) => wrap(member, indent, 'union')).join(' | ');
    case 'intersection':
      return type.members.map((member) => wrap(member, indent, 'intersection')).join(' & ');
    case 'object':
      return printObject(type.properties, type.index, indent);
  }
}

/** A member that needs parentheses where it stands (a union inside an array or intersection). */
function wrap(type: TsType, indent: string, within: 'array' | 'union' | 'intersection' = 'array'): string {
  const text = printType(type, indent);
  const compound = type.kind === 'union' || type.kind === 'intersection';
  const needs = within === 'array' ? compound : within === 'intersection' && type.kind === 'union';
  return needs ? `(${text})` : text;
}

/** The body of an object type or interface: `{`, one line per field, `}`. */
export function printObject(
  properties: readonly TsProperty[],
  index: TsType | undefined,
  indent: string,
): string {
  if (properties.length === 0) return `Record<string, ${printType(index ?? UNKNOWN, indent)}>`;
  const inner = `${indent}  `;
  const lines = ['{'];
  for (const property of properties) {
    if (property.description !== undefined) lines.push(...docComment(property.description, inner));
    const optional = property.optional ? '?' : '';
    const key = `${propertyKey(property.name)}${optional}:`;
    lines.push(`${inner}${key}${printAnnotation(property.type, inner, key.length)};`);
  }
  if (index !== undefined) lines.push(`${inner}[key: string]:${printAnnotation(index, inner, 14)};`);
  lines.push(`${indent}}`);
  return lines.join('\n');
}

const PRINT_WIDTH = 110;

/**
 * A type after `name:` or `type Name =` on a line indented by `indent`, with its leading space.
 * A union that has a multi-line member or would overflow the line goes one member per line,
 * led by `|`, as prettier lays it out.
 */
export function printAnnotation(type: TsType, indent: string, prefixLength = 0): string {
  const inline = printType(type, indent);
  if (type.kind !== 'union') return ` ${inline}`;
  const long = indent.length + prefixLength + inline.length + 2 > PRINT_WIDTH;
  if (!inline.includes('\n') && !long) return ` ${inline}`;
  const lead = `${indent}  | `;
  const members = type.members.map((member) => `${lead}${wrap(member, `${indent}    `, 'union')}`);
  return `\n${members.join('\n')}`;
}

/** A `/** … *\/` comment, one line when the text is one line. */
export function docComment(text: string, indent: string): string[] {
  const lines = text
    .trim()
    .split(/\r?\n/)
    .map((line) => commentText(line.trimEnd()));
  if (lines.length === 1) return [`${indent}/** ${lines[0]} */`];
  return [
    `${indent}/**`,
    ...lines.map((line) => (line === '' ? `${indent} *` : `${indent} * ${line}`)),
    `${indent} */`,
  ];
}

/** Text that cannot end the comment it is put in. */
function commentText(text: string): string {
  return text.replace(/\*\//g, '*\\/');
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A property name as written in a type: bare when it is an identifier, else quoted. */
export function propertyKey(name: string): string {
  return IDENTIFIER.test(name) ? name : quote(name);
}

/** A single-quoted TypeScript string literal. */
export function quote(text: string): string {
  const json = JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'");
  return `'${json}'`;
}

/** A JSON value as a literal type (objects and arrays as type literals and tuples). */
function printLiteral(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(printLiteral).join(', ')}]`;
  if (isSchemaObject(value)) {
    const fields = Object.keys(value)
      .sort(compareText)
      .map((key) => `${propertyKey(key)}: ${printLiteral(value[key])}`);
    return fields.length === 0 ? 'Record<string, never>' : `{ ${fields.join('; ')} }`;
  }
  return 'unknown';
}

/** Code-unit order, the same on every machine (no locale). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
