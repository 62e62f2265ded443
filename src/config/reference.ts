import { CONFIG_ENV_ALIASES } from './schema.js';
import { configEntries, formatKeyPath, type ConfigEntry } from './schema-info.js';

/*
 * Renders docs/configuration.md from the schema. Pure: `npm run docs:config` writes the result
 * and test/config/reference.test.ts fails when the committed page differs from it.
 */

const INTRO = `# Configuration reference

<!-- Generated from src/config/schema.ts by \`npm run docs:config\`. Do not edit by hand:
     test/config/reference.test.ts fails when this page and the schema disagree. -->

Tasker reads TOML files and environment variables, merges them, and validates the result
against one schema. Every key has a default, so Tasker runs with no configuration at all.
\`tasker config show [--env NAME] [--json]\` prints the merged result;
\`loadConfig()\` returns it to a program.

## Where values come from

Later sources override earlier ones:

1. The defaults on this page.
2. \`<root>/base/*.toml\`, every file in name order.
3. \`<root>/environments/<env>/*.toml\`, every file in name order, when an environment is named.
4. The OpenTelemetry variables of spec 1.3 (table below).
5. \`TASKER__<SECTION>__<KEY>\` variables, e.g.
   \`TASKER__EVENTS__DURABLE__MAX_DELIVERY_ATTEMPTS=5\`.

- **Root**: \`loadConfig({ root })\`, else \`TASKER_CONFIG_ROOT\`, else \`./config/tasker\`
  (relative to the working directory). A root or \`base/\` folder that does not exist means
  defaults.
- **Environment**: \`--env NAME\` / \`loadConfig({ env })\`, else \`TASKER_ENV\`, else none (base
  files only). A named environment whose folder does not exist is an error. The repository ships
  \`production\` (spec 6.2: \`buffer_size = 10000\`, \`max_delivery_attempts = 5\`,
  \`dlq_retention_days = 30\`) and \`test\` (quicker fallback polls and retries).
- **Merging**: tables merge key by key; arrays and scalars replace the earlier value.
- **Environment variables**: the path after \`TASKER__\` is case-insensitive, its segments
  separated by double underscores. The value is read as a TOML value (\`5\`, \`true\`,
  \`[0.01, 0.1, 1.0]\`, \`"text"\`) and otherwise taken as a string; for keys that take a string
  the text is kept as written. An empty value counts as unset.
- **Errors**: an unknown key, a value of the wrong type or a broken TOML file stops loading
  with one line naming the file or variable, the key and the expected type, e.g.
  \`config/tasker/base/events.toml: events.durable.max_delivery_attempts: expected a positive
  integer, got "five"\` or \`config/tasker/base/events.toml:3:11: Invalid TOML document: …\`.
`;

/** The Markdown of docs/configuration.md, rendered from the schema. */
export function renderConfigReference(): string {
  const entries = configEntries();
  const parts = [INTRO, renderAliases(entries)];
  for (const section of entries.filter((entry) => entry.kind === 'section')) {
    const keys = entries.filter(
      (entry) => entry.kind === 'key' && entry.path.slice(0, -1).join('.') === section.path.join('.'),
    );
    if (keys.length === 0) continue;
    parts.push(renderSection(section, keys));
  }
  return `${parts.join('\n').trimEnd()}\n`;
}

function renderAliases(entries: readonly ConfigEntry[]): string {
  const rows = Object.entries(CONFIG_ENV_ALIASES).map(([name, path]) => {
    const entry = entries.find((candidate) => candidate.path.join('.') === path.join('.'));
    return `| \`${name}\` | \`${formatKeyPath(path)}\` | ${cell(entry?.type ?? '')} |`;
  });
  return [
    '## OpenTelemetry variables (spec 1.3)',
    '',
    'These set telemetry keys under their conventional names. A `TASKER__…` variable for the same',
    'key wins over them.',
    '',
    '| Variable | Key | Type |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

function renderSection(section: ConfigEntry, keys: readonly ConfigEntry[]): string {
  return [
    `## \`[${formatKeyPath(section.path)}]\``,
    '',
    section.description,
    '',
    '| Key | Type | Default | Environment variables | Description |',
    '| --- | --- | --- | --- | --- |',
    ...keys.map(
      (key) =>
        `| \`${key.path.at(-1) ?? ''}\` | ${cell(key.type)} | ${renderDefault(key.default)} | ` +
        `${[key.envVar, ...key.aliases].map((name) => `\`${name}\``).join(', ')} | ${cell(key.description)} |`,
    ),
    '',
  ].join('\n');
}

function renderDefault(value: unknown): string {
  return value === undefined ? 'unset' : `\`${tomlLiteral(value)}\``;
}

function tomlLiteral(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(tomlLiteral).join(', ')}]`;
  return JSON.stringify(value);
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}
