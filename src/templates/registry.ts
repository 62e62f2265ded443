/**
 * The set of templates a process knows, looked up by namespace, name and version. Built from
 * validated templates; refuses duplicates and conflicting event schemas across them. Pure.
 */
import { TaskerError } from '../errors.js';
import { assertConsistentEventSchemas } from './event-declarations.js';
import { compareSemver, parseSemver, type Semver } from './semver.js';
import type { TaskTemplate } from './types.js';

/** Templates by namespace, name and version. */
export interface TemplateRegistry {
  /** Every template, sorted by namespace, name, then version (oldest first). */
  all(): readonly TaskTemplate[];
  /**
   * The template `namespace/name@version`; without a version, the latest release (the highest
   * version without a pre-release tag, or the highest pre-release when there is no release).
   * Throws TEMPLATE_NOT_FOUND naming what was asked and what exists.
   */
  get(namespace: string, name: string, version?: string): TaskTemplate;
  /** The namespaces of all templates, sorted. */
  namespaces(): readonly string[];
}

/** `payments/process_payment@1.0.0`. */
export function formatTemplateId(template: Pick<TaskTemplate, 'namespace' | 'name' | 'version'>): string {
  return `${template.namespace}/${template.name}@${template.version}`;
}

interface Entry {
  readonly template: TaskTemplate;
  readonly semver: Semver;
}

/** Builds a registry; throws TEMPLATE_INVALID for two templates with one id or conflicting event schemas. */
export function createTemplateRegistry(templates: readonly TaskTemplate[]): TemplateRegistry {
  const byId = new Map<string, TaskTemplate>();
  for (const template of templates) {
    const id = formatTemplateId(template);
    const earlier = byId.get(id);
    if (earlier)
      throw new TaskerError(
        'TEMPLATE_INVALID',
        `${template.source}: ${id} is already defined in ${earlier.source}`,
      );
    byId.set(id, template);
  }
  assertConsistentEventSchemas(templates);

  const entries: Entry[] = templates.map((template) => {
    const semver = parseSemver(template.version);
    if (!semver)
      throw new TaskerError(
        'TEMPLATE_INVALID',
        `${template.source}: version "${template.version}" is not a semantic version`,
      );
    return { template, semver };
  });
  entries.sort(
    (a, b) =>
      compareText(a.template.namespace, b.template.namespace) ||
      compareText(a.template.name, b.template.name) ||
      compareSemver(a.semver, b.semver),
  );
  const sorted = Object.freeze(entries.map((entry) => entry.template));
  const namespaces = Object.freeze([...new Set(sorted.map((template) => template.namespace))]);

  return {
    all: () => sorted,
    namespaces: () => namespaces,
    get(namespace, name, version) {
      const asked = `${namespace}/${name}${version === undefined ? '' : `@${version}`}`;
      if (!namespaces.includes(namespace)) {
        const known =
          namespaces.length > 0 ? `known namespaces: ${namespaces.join(', ')}` : 'no templates are loaded';
        throw new TaskerError(
          'TEMPLATE_NOT_FOUND',
          `no template ${asked}: namespace "${namespace}" is unknown (${known})`,
        );
      }
      const versions = entries.filter((e) => e.template.namespace === namespace && e.template.name === name);
      if (versions.length === 0) {
        const names = [...new Set(sorted.filter((t) => t.namespace === namespace).map((t) => t.name))];
        throw new TaskerError(
          'TEMPLATE_NOT_FOUND',
          `no template ${asked} (templates in ${namespace}: ${names.join(', ')})`,
        );
      }
      if (version === undefined) return latest(versions);
      const found = versions.find((entry) => entry.template.version === version);
      if (!found) {
        const list = versions.map((entry) => entry.template.version).join(', ');
        throw new TaskerError('TEMPLATE_NOT_FOUND', `no template ${asked} (versions: ${list})`);
      }
      return found.template;
    },
  };
}

/** The highest release, or the highest pre-release when there are only pre-releases. `versions` is sorted. */
function latest(versions: readonly Entry[]): TaskTemplate {
  const releases = versions.filter((entry) => entry.semver.prerelease.length === 0);
  const pool = releases.length > 0 ? releases : versions;
  return (pool[pool.length - 1] as Entry).template;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
