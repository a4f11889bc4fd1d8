import { execFileSync, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * Throwaway PostgreSQL clusters for tests and benchmarks: Debian's `postgresql` binaries,
 * `initdb` into a scratch directory, loopback TCP only, trust authentication (nothing but this
 * machine can reach it), no Docker. Root cannot run PostgreSQL, so as root the server runs as
 * the `postgres` user the Debian package creates.
 */
export class PgTestCluster {
  private constructor(
    readonly dataDir: string,
    readonly port: number,
    private readonly bin: string,
  ) {}

  /** postgres://coffer@127.0.0.1:PORT/DB */
  url(database = 'coffer'): string {
    return `postgres://coffer@127.0.0.1:${this.port}/${database}`;
  }

  /** initdb + start. `settings` become lines of postgresql.conf. */
  static async create(dir: string, settings: Record<string, string | number> = {}): Promise<PgTestCluster> {
    const bin = postgresBinDir();
    const dataDir = path.join(dir, 'pgdata');
    prepareOwnedDir(dir);
    runAsPostgres(bin, 'initdb', ['-D', dataDir, '-U', 'coffer', '-A', 'trust', '-E', 'UTF8', '--no-locale']);
    const port = await freePort();
    writeSettings(dataDir, { ...BASE_SETTINGS, port, ...settings });
    appendFileSync(hbaFile(dataDir), 'host replication coffer 127.0.0.1/32 trust\n');
    const cluster = new PgTestCluster(dataDir, port, bin);
    cluster.start();
    cluster.sql('postgres', 'CREATE DATABASE coffer');
    return cluster;
  }

  /** A hot standby streaming from this cluster, made with pg_basebackup, started. */
  async createStandby(dir: string, settings: Record<string, string | number> = {}): Promise<PgTestCluster> {
    const dataDir = path.join(dir, 'pgdata');
    prepareOwnedDir(dir);
    runAsPostgres(this.bin, 'pg_basebackup', [
      ...['-h', '127.0.0.1', '-p', String(this.port), '-U', 'coffer'],
      ...['-D', dataDir, '-R', '-X', 'stream', '-c', 'fast'],
    ]);
    const port = await freePort();
    writeSettings(dataDir, { port, ...settings });
    const standby = new PgTestCluster(dataDir, port, this.bin);
    standby.start();
    return standby;
  }

  start(): void {
    runAsPostgres(this.bin, 'pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      path.join(this.dataDir, 'log'),
      '-w',
      'start',
    ]);
  }

  /** A clean, fast shutdown; safe to call on a stopped or killed cluster. */
  stop(): void {
    if (!existsSync(path.join(this.dataDir, 'postmaster.pid'))) return;
    spawnSync(
      ...asPostgres(path.join(this.bin, 'pg_ctl'), ['-D', this.dataDir, '-m', 'fast', '-w', 'stop']),
      {
        stdio: 'ignore',
      },
    );
  }

  /** kill -9 of the postmaster and every backend: what a crash of the database machine looks like to clients. */
  kill9(): void {
    const pid = this.postmasterPid();
    if (pid === undefined) return;
    const children = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n');
    for (const target of [pid, ...children.filter(Boolean).map(Number)]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  promote(): void {
    runAsPostgres(this.bin, 'pg_ctl', ['-D', this.dataDir, '-w', 'promote']);
  }

  /** Runs SQL with psql and returns its unaligned, tuples-only output. */
  sql(database: string, statement: string): string {
    return execFileSync(
      path.join(this.bin, 'psql'),
      ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'coffer', '-d', database, '-Atqc', statement],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    ).trim();
  }

  private postmasterPid(): number | undefined {
    const file = path.join(this.dataDir, 'postmaster.pid');
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }
}

/** Small and quick to start; durable (fsync on), since failover tests count acknowledged writes. */
const BASE_SETTINGS: Record<string, string | number> = {
  listen_addresses: "'127.0.0.1'",
  // Unix socket paths are limited to ~100 bytes, too short for nested scratch directories.
  unix_socket_directories: "''",
  shared_buffers: "'16MB'",
  max_connections: 100,
  wal_level: 'replica',
  max_wal_senders: 4,
  hot_standby: 'on',
  logging_collector: 'off',
};

export function postgresBinDir(): string {
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((entry) => existsSync(path.join(debian, entry, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(debian, versions[0], 'bin');
  }
  const found = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  if (found) return path.dirname(found);
  throw new Error('PostgreSQL is not installed: apt-get install postgresql (.ci/run does this in CI)');
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function asPostgres(command: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

function runAsPostgres(bin: string, tool: string, args: string[]): void {
  const [command, commandArgs] = asPostgres(path.join(bin, tool), args);
  const result = spawnSync(command, commandArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) {
    throw new Error(`${tool} failed (${result.status}): ${result.stderr || result.stdout}`);
  }
}

/** As root, the postgres user must own the cluster's directory and reach it through its parents. */
function prepareOwnedDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  if (!isRoot()) return;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(dir, uid, gid);
  chmodSync(dir, 0o700);
  // Scratch directories are made 0700 by mkdtemp: let others traverse (not list) them.
  for (let parent = path.dirname(dir); parent !== path.dirname(parent); parent = path.dirname(parent)) {
    chmodSync(parent, (statSync(parent).mode & 0o7777) | 0o011);
  }
}

function writeSettings(dataDir: string, settings: Record<string, string | number>): void {
  const lines = Object.entries(settings).map(([key, value]) => `${key} = ${value}`);
  appendFileSync(path.join(dataDir, 'postgresql.conf'), `\n${lines.join('\n')}\n`);
}

function hbaFile(dataDir: string): string {
  return path.join(dataDir, 'pg_hba.conf');
}

/** A TCP port that was free a moment ago (tests and clusters that must come back on it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
