/**
 * The library depends on `@opentelemetry/api` only: the SDK is wired by the CLI, in modules
 * reached only through one that is imported lazily (only when telemetry is enabled), so a
 * process without telemetry loads none of it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

const files = sources(SRC).map((file) => ({ path: relative(SRC, file), text: readFileSync(file, 'utf8') }));
const STATIC_IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]/gm;

function staticImports(text: string): string[] {
  return [...text.matchAll(STATIC_IMPORT)].map((match) => match[1]!);
}

describe('the OpenTelemetry SDK boundary', () => {
  it('only the CLI SDK modules import SDK packages; everything else uses @opentelemetry/api', () => {
    const importers = files
      .filter((file) =>
        staticImports(file.text).some(
          (spec) => spec.startsWith('@opentelemetry/') && spec !== '@opentelemetry/api',
        ),
      )
      .map((file) => file.path);
    expect(importers).toEqual(['cli/telemetry-sdk.ts', 'cli/trace-provider.ts']);
  });

  it('the other SDK modules are imported by the SDK module and each other only', () => {
    const sdkSide = ['/trace-provider.js', '/task-span-thread-sink.js'];
    const importers = files.filter((file) =>
      staticImports(file.text).some((spec) => sdkSide.some((name) => spec.endsWith(name))),
    );
    expect(importers.map((file) => file.path).sort()).toEqual([
      'cli/task-span-thread-sink.ts',
      'cli/task-span-thread.ts',
      'cli/telemetry-sdk.ts',
    ]);
  });

  it('nothing imports the SDK module statically; the CLI loads it with import() when telemetry is enabled', () => {
    const importers = files.filter((file) =>
      staticImports(file.text).some((spec) => spec.endsWith('/telemetry-sdk.js')),
    );
    expect(importers.map((file) => file.path)).toEqual([]);
    const dynamic = files.filter((file) => file.text.includes("import('./telemetry-sdk.js')"));
    expect(dynamic.map((file) => file.path)).toEqual(['cli/cli-telemetry.ts']);
    expect(dynamic[0]!.text).toMatch(
      /if \(!runtime\.config\.telemetry\.enabled\) return DISABLED;[\s\S]*import\('\.\/telemetry-sdk\.js'\)/,
    );
  });
});
