import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { errorCode, TaskerError } from '../errors.js';
import { envLayers, mergeLayers, type ConfigLayer, type ConfigTable } from './merge.js';
import { CONFIG_ENV_ALIASES, type TaskerConfig } from './schema.js';
import { findConfigEntry } from './schema-info.js';
import { validateConfig } from './validate.js';

/** The configuration root used when neither an option nor `TASKER_CONFIG_ROOT` names one. */
export const DEFAULT_CONFIG_ROOT = join('config', 'tasker');

/** Where {@link loadConfig} reads from; every field falls back to the environment. */
export interface LoadConfigOptions {
  /** Configuration root; else `TASKER_CONFIG_ROOT`, else `./config/tasker`. */
  root?: string;
  /** Environment name (a folder in `<root>/environments/`); else `TASKER_ENV`, else none. */
  env?: string;
  /** Environment variables to read; `process.env` by default. */
  environ?: NodeJS.ProcessEnv;
}

/** The root and environment a load resolves to, for messages and `tasker config show`. */
export interface ConfigLocation {
  readonly root: string;
  readonly env: string | undefined;
}

/** Resolves the configuration root and environment name from options and environment. */
export function resolveConfigLocation(options: LoadConfigOptions = {}): ConfigLocation {
  const environ = options.environ ?? process.env;
  const root = options.root ?? nonEmpty(environ.TASKER_CONFIG_ROOT) ?? DEFAULT_CONFIG_ROOT;
  const env = options.env ?? nonEmpty(environ.TASKER_ENV);
  if (env !== undefined && !/^[A-Za-z0-9_-]+$/.test(env)) {
    throw new TaskerError(
      'CONFIG_INVALID',
      `environment name ${JSON.stringify(env)}: use letters, digits, "-" and "_" only`,
    );
  }
  return { root, env };
}

/**
 * Loads the configuration: `<root>/base/*.toml` in name order, then
 * `<root>/environments/<env>/*.toml`, deep-merged, then the environment variables
 * (spec 1.3 names, then `TASKER__SECTION__KEY`), validated with every default filled in.
 * A missing root or `base/` means defaults; a named environment must exist.
 * @throws TaskerError CONFIG_INVALID naming the file or variable, the key and the expected type
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<TaskerConfig> {
  const environ = options.environ ?? process.env;
  const { root, env } = resolveConfigLocation(options);
  const layers: ConfigLayer[] = await readTomlDirectory(join(root, 'base'));
  if (env !== undefined) layers.push(...(await readEnvironment(root, env)));
  layers.push(
    ...envLayers(environ, {
      aliases: CONFIG_ENV_ALIASES,
      expectsString: (path) => findConfigEntry(path)?.jsonType === 'string',
    }),
  );
  return validateConfig(mergeLayers(layers));
}

async function readEnvironment(root: string, env: string): Promise<ConfigLayer[]> {
  const directory = join(root, 'environments', env);
  const layers = await readTomlDirectory(directory, { required: true });
  if (layers !== undefined) return layers;
  const known = await listDirectories(join(root, 'environments'));
  throw new TaskerError(
    'CONFIG_INVALID',
    `${directory}: no such directory for environment ${JSON.stringify(env)}` +
      (known.length > 0 ? ` (environments: ${known.join(', ')})` : ''),
  );
}

/** Every `*.toml` file of a directory, parsed, in name order; none when it does not exist. */
async function readTomlDirectory(directory: string): Promise<ConfigLayer[]>;
async function readTomlDirectory(
  directory: string,
  options: { required: true },
): Promise<ConfigLayer[] | undefined>;
async function readTomlDirectory(
  directory: string,
  options: { required?: boolean } = {},
): Promise<ConfigLayer[] | undefined> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return options.required ? undefined : [];
    throw new TaskerError('CONFIG_INVALID', `${directory}: cannot read the directory (${describe(error)})`, {
      cause: error,
    });
  }
  const layers: ConfigLayer[] = [];
  for (const name of names.filter((entry) => entry.endsWith('.toml')).sort()) {
    const file = join(directory, name);
    // stat, not the directory entry, so symlinked files (Kubernetes ConfigMaps) count.
    if (!(await isFile(file))) continue;
    layers.push({ source: file, values: parseTomlFile(file, await readText(file)) });
  }
  return layers;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch (error) {
    throw new TaskerError('CONFIG_INVALID', `${file}: cannot read (${describe(error)})`, { cause: error });
  }
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new TaskerError('CONFIG_INVALID', `${file}: cannot read (${describe(error)})`, { cause: error });
  }
}

function parseTomlFile(file: string, text: string): ConfigTable {
  try {
    return parseToml(text, { unsafeKeyBehaviour: 'throw' });
  } catch (error) {
    if (error instanceof TomlError) {
      // smol-toml's message carries a code excerpt after its first line; one line is enough.
      const message = error.message.split('\n')[0] ?? error.message;
      throw new TaskerError('CONFIG_INVALID', `${file}:${error.line}:${error.column}: ${message}`, {
        cause: error,
      });
    }
    throw new TaskerError('CONFIG_INVALID', `${file}: ${describe(error)}`, { cause: error });
  }
}

async function listDirectories(directory: string): Promise<string[]> {
  try {
    const entries = await readdir(directory, { withFileTypes: true });
    return entries
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function describe(error: unknown): string {
  return errorCode(error) ?? (error instanceof Error ? error.message : String(error));
}
