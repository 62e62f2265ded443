/**
 * Loads task templates from YAML files and directories into a registry. One template per file
 * (`.yaml` or `.yml`); directories are searched recursively, skipping entries whose name starts
 * with a dot. Nothing is registered unless every file is valid.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { TaskerError } from '../errors.js';
import { parseTemplateYaml } from './parse.js';
import { createTemplateRegistry, type TemplateRegistry } from './registry.js';
import { DEFAULT_DELIVERY, DELIVERY_MODES, type DeliveryMode, type TaskTemplate } from './types.js';

/** Options of loadTemplates. */
export interface LoadTemplatesOptions {
  /** `delivery` of event declarations that do not set one (configuration `events.default_delivery`); default `fire_and_forget`. */
  readonly defaultDelivery?: DeliveryMode;
}

const TEMPLATE_EXTENSIONS = ['.yaml', '.yml'];

/**
 * Loads every template under `paths` (files and directories) and builds the registry.
 * Throws TEMPLATE_INVALID (with file, and line:column or the path inside it) or
 * TEMPLATE_NOT_FOUND (a path that does not exist, a directory without templates).
 */
export async function loadTemplates(
  paths: readonly string[],
  options: LoadTemplatesOptions = {},
): Promise<TemplateRegistry> {
  const defaultDelivery = options.defaultDelivery ?? DEFAULT_DELIVERY;
  if (!(DELIVERY_MODES as readonly string[]).includes(defaultDelivery)) {
    throw new TaskerError(
      'CONFIG_INVALID',
      `default delivery must be one of ${DELIVERY_MODES.join(', ')}, got ${JSON.stringify(defaultDelivery)}`,
    );
  }
  const files: string[] = [];
  const seen = new Set<string>();
  for (const given of paths) {
    for (const file of await templateFiles(given)) {
      // The same file reached twice (listed and inside a listed directory) loads once.
      const real = await realpath(file);
      if (seen.has(real)) continue;
      seen.add(real);
      files.push(file);
    }
  }
  const templates: TaskTemplate[] = [];
  for (const file of files) templates.push(await loadTemplateFile(file, { defaultDelivery }));
  return createTemplateRegistry(templates);
}

/** Reads and validates one template file. */
export async function loadTemplateFile(
  file: string,
  options: LoadTemplatesOptions = {},
): Promise<TaskTemplate> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw fileError(file, error);
  }
  return parseTemplateYaml(text, file, options);
}

/** The template files a path stands for: itself, or the YAML files below it, sorted. */
async function templateFiles(given: string): Promise<string[]> {
  let info;
  try {
    info = await stat(given);
  } catch (error) {
    throw fileError(given, error);
  }
  if (info.isFile()) {
    if (!isTemplateFile(given)) {
      throw new TaskerError('TEMPLATE_INVALID', `${given}: not a template file (expected .yaml or .yml)`);
    }
    return [given];
  }
  if (!info.isDirectory()) throw new TaskerError('TEMPLATE_INVALID', `${given}: not a file or directory`);
  const found: string[] = [];
  await walk(given, found, new Set());
  if (found.length === 0) {
    throw new TaskerError('TEMPLATE_NOT_FOUND', `${given}: no .yaml or .yml templates in this directory`);
  }
  return found;
}

async function walk(directory: string, found: string[], visited: Set<string>): Promise<void> {
  // Symbolic links may loop back; each real directory is read once.
  const real = await realpath(directory);
  if (visited.has(real)) return;
  visited.add(real);
  let names: string[];
  try {
    names = (await readdir(directory)).sort();
  } catch (error) {
    throw fileError(directory, error);
  }
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const entry = path.join(directory, name);
    const info = await stat(entry).catch(() => undefined); // a dangling link is skipped
    if (info?.isDirectory()) await walk(entry, found, visited);
    else if (info?.isFile() && isTemplateFile(name)) found.push(entry);
  }
}

function isTemplateFile(file: string): boolean {
  return TEMPLATE_EXTENSIONS.includes(path.extname(file).toLowerCase());
}

function fileError(file: string, error: unknown): TaskerError {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') return new TaskerError('TEMPLATE_NOT_FOUND', `${file}: no such file or directory`);
  const reason = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
  return new TaskerError('TEMPLATE_INVALID', `${file}: cannot read (${reason})`, { cause: error });
}
