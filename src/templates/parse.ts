/**
 * YAML text to TaskTemplate: syntax errors become `file:line:column: message`, then the value
 * is validated. One template per file; a file with several YAML documents is refused, so a
 * template's `source` always names exactly one template. Pure.
 */
import { LineCounter, parseAllDocuments, visit, type Document, type YAMLError } from 'yaml';
import { TaskerError } from '../errors.js';
import { validateTemplate, type ValidateTemplateOptions } from './validate.js';
import type { TaskTemplate } from './types.js';

/** Parses and validates the YAML `text` of `file`. */
export function parseTemplateYaml(
  text: string,
  file: string,
  options: ValidateTemplateOptions = {},
): TaskTemplate {
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true, lineCounter: lines });
  if (!Array.isArray(documents)) return validateTemplate(null, file, options); // only comments or nothing
  for (const document of documents) {
    // Unresolved tags and similar warnings would silently change values: refuse them too.
    const problem = document.errors[0] ?? document.warnings[0];
    if (problem) throw yamlError(problem, file);
  }
  const [document, second] = documents;
  if (second) {
    const { line } = lines.linePos(second.range[0]);
    throw new TaskerError(
      'TEMPLATE_INVALID',
      `${file}:${line}:1: holds ${documents.length} YAML documents; put one template per file`,
    );
  }
  let value: unknown;
  try {
    value = document?.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    // For example an alias to an anchor that is never defined: point at the alias.
    const message = error instanceof Error ? error.message : String(error);
    const offset = document ? unresolvedAliasOffset(document) : undefined;
    const position =
      offset === undefined ? '' : `:${lines.linePos(offset).line}:${lines.linePos(offset).col}`;
    throw new TaskerError('TEMPLATE_INVALID', `${file}${position}: ${message}`, { cause: error });
  }
  return validateTemplate(value, file, options);
}

function unresolvedAliasOffset(document: Document.Parsed): number | undefined {
  let offset: number | undefined;
  visit(document, {
    Alias(_, node) {
      if (node.resolve(document) === undefined && offset === undefined) offset = node.range?.[0];
    },
  });
  return offset;
}

function yamlError(error: YAMLError, file: string): TaskerError {
  const position = error.linePos?.[0];
  const at = position ? `${file}:${position.line}:${position.col}` : file;
  // prettyErrors appends " at line L, column C:" and a source excerpt; keep the first sentence.
  const message = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
  return new TaskerError('TEMPLATE_INVALID', `${at}: ${message}`, { cause: error });
}
