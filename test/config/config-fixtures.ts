import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Temporary configuration roots for the config tests, removed by {@link removeConfigRoots}. */
const roots: string[] = [];

/** Creates a configuration root holding `files` (paths relative to the root → TOML text). */
export async function makeConfigRoot(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'tasker-config-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

/** Deletes every root made by {@link makeConfigRoot}. */
export async function removeConfigRoots(): Promise<void> {
  await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })));
}
