import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerDatabase, dropServerDatabase } from '../helpers/databases.js';

const run = promisify(execFile);

/** Runs the built CLI (the tests' global setup builds dist/) and returns its exit code and output. */
async function tasker(args: string[], env: NodeJS.ProcessEnv) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/tasker.js', ...args], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('tasker migrate and an unreachable database', () => {
  let name: string;
  let url: string;

  beforeAll(async () => {
    ({ name, url } = await createServerDatabase());
  });

  afterAll(async () => {
    await dropServerDatabase(name);
  });

  it('migrates the server in DATABASE_URL, then reports it up to date', async () => {
    const first = await tasker(['migrate'], { DATABASE_URL: url });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      new RegExp(`127\\.0\\.0\\.1:5432/${name}: applied pgmq-bundled-\\d+, 0001_`),
    );
    const second = await tasker(['migrate'], { DATABASE_URL: url });
    expect(second.stdout.trim()).toBe(`127.0.0.1:5432/${name}: already up to date (pgmq: bundled)`);
  });

  it('says in one line, without a stack trace, that the server cannot be reached', async () => {
    const result = await tasker(['migrate'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('tasker: cannot reach PostgreSQL at 127.0.0.1:1/nowhere (ECONNREFUSED)\n');
  });

  it('refuses to work against a database that is not migrated, naming what is missing', async () => {
    const { name: empty, url: emptyUrl } = await createServerDatabase();
    try {
      const result = await tasker(['task', 'show', '00000000-0000-7000-8000-000000000000'], {
        DATABASE_URL: emptyUrl,
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /^tasker: 127\.0\.0\.1:5432\/tasker_t_\w+ is missing migrations 0001_.*; run `tasker migrate` first\n$/,
      );
    } finally {
      await dropServerDatabase(empty);
    }
  });

  it('refuses commands that share state through an in-memory embedded database', async () => {
    const result = await tasker(['task', 'show', '00000000-0000-7000-8000-000000000000'], {
      DATABASE_URL: '',
      TASKER_DATA_DIR: '',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'tasker: this command needs DATABASE_URL (a server) or TASKER_DATA_DIR (an embedded database on disk); ' +
        'without them the embedded database is in memory and ends with this process\n',
    );
  });

  it('needs DATABASE_URL for migrate', async () => {
    const result = await tasker(['migrate'], { DATABASE_URL: '' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('tasker migrate needs DATABASE_URL');
  });
});
