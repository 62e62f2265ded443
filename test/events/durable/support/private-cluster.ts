/**
 * A private PostgreSQL 15 cluster for a test that restarts its server: the shared server on
 * 5432 serves other tests at the same time and must never be restarted. initdb and pg_ctl run
 * as the `postgres` OS user (the tests run as root, which PostgreSQL refuses).
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const execFileAsync = promisify(execFile);

/** Where Debian puts PostgreSQL 15's binaries; the newest installed version otherwise. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  const chosen = versions.includes('15') ? '15' : versions[0];
  const dir = chosen === undefined ? undefined : path.join(root, chosen, 'bin');
  return dir !== undefined && existsSync(path.join(dir, 'pg_ctl')) ? dir : undefined;
}

/** True when this machine can run a private cluster: PostgreSQL binaries, root and a `postgres` user. */
export function canRunPrivateCluster(): boolean {
  return postgresBinDir() !== undefined && process.getuid?.() === 0 && existsSync('/usr/sbin/runuser');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** A running private cluster. */
export interface PrivateCluster {
  port: number;
  /** Connection string of database `name` on it. */
  url(name: string): string;
  /** Creates an empty database. */
  createDatabase(name: string): Promise<void>;
  /** `pg_ctl restart -m MODE`: every connection is cut; resolves once it accepts connections again. */
  restart(mode: 'fast' | 'immediate'): Promise<void>;
  /** Stops the server and removes its directory; safe to call twice. */
  destroy(): Promise<void>;
}

/** initdb into a temporary directory and start it on a free port. */
export async function startPrivateCluster(): Promise<PrivateCluster> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql');
  const dir = mkdtempSync(path.join(tmpdir(), 'tasker-pg-'));
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  const { uid, gid } = await postgresUser();
  chownSync(dir, uid, gid);
  const asPostgres = (tool: string, args: string[]) =>
    execFileAsync('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args], { cwd: dir });
  let started = false;
  const destroy = async (): Promise<void> => {
    if (started) {
      started = false;
      await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    const port = await freePort();
    const options = `-p ${port} -k /tmp -c listen_addresses=127.0.0.1`;
    await asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', log, '-w', 'start']);
    started = true;
    const url = (name: string): string => `postgres://postgres@127.0.0.1:${port}/${name}`;
    return {
      port,
      url,
      async createDatabase(name: string): Promise<void> {
        const client = new pg.Client({ connectionString: url('postgres') });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${name}`);
        } finally {
          await client.end();
        }
      },
      async restart(mode): Promise<void> {
        await asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', log, '-m', mode, '-w', 'restart']);
      },
      destroy,
    };
  } catch (error) {
    await destroy();
    throw error;
  }
}

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const { stdout } = await execFileAsync('id', ['-u', 'postgres']);
  const { stdout: group } = await execFileAsync('id', ['-g', 'postgres']);
  return { uid: Number(stdout.trim()), gid: Number(group.trim()) };
}
