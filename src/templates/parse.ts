/**
 * YAML text to TaskTemplate: syntax errors become `file:line:column: message`, then the value
 * is validated. One template per file; a file with several YAML documents is refused, so a
 * template's `source` always names exactly one template. Pure.
 */
import { parseAllDocuments, type YAMLError } from 'yaml';
import { TaskerError } from '../errors.js';
import { validateTemplate, type ValidateTemplateOptions } from './validate.js';
import type { TaskTemplate } from './types.js';

/** Parses and validates the YAML `text` of `file`. */
export function parseTemplateYaml(text: string, file: string, options: ValidateTemplateOptions = {}): TaskTemplate {
  const documents = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  if (!Array.isArray(documents)) return validateTemplate(null, file, options); // only comments or nothing
  for (const document of documents) {
    // Unresolved tags and similar warnings would silently change values: refuse them too.
    const problem = document.errors[0] ?? document.warnings[0];
    if (problem) throw yamlError(problem, file);
  }
  if (documents.length > 1) {
    const second = documents[1];
    const line = second ? lineOf(text, second.range[0]) : 0;
    throw new TaskerError(
      'TEMPLATE_INVALID',
      `${file}:${line}:1: holds ${documents.length} YAML documents; put one template per file`,
    );
  }
  let value: unknown;
  try {
    value = documents[0]?.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    // For example an alias to an anchor that is never defined.
    const message = error instanceof Error ? error.message : String(error);
    throw new TaskerError('TEMPLATE_INVALID', `${file}: ${message}`, { cause: error });
  }
  return validateTemplate(value, file, options);
}

function yamlError(error: YAMLError, file: string): TaskerError {
  const position = error.linePos?.[0];
  const at = position ? `${file}:${position.line}:${position.col}` : file;
  // prettyErrors appends " at line L, column C:" and a source excerpt; keep the first sentence.
  const message = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
  return new TaskerError('TEMPLATE_INVALID', `${at}: ${message}`, { cause: error });
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}
