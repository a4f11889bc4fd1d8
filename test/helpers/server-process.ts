import './loopback-dns.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import type { DevFacts } from '../../src/core/dev-setup.js';

export const repoRoot = path.resolve(import.meta.dirname, '../../..');
/** The CLI of the same compilation as this test, so a second build dir (dist-*) tests itself. */
export const cofferBin = path.resolve(import.meta.dirname, '../../src/cli/main.js');

export type { DevFacts };

/** A fresh scratch directory under the test run's own tmp dir. */
export function scratchDir(label: string): string {
  const base = process.env.COFFER_TEST_TMP ?? path.join(repoRoot, '.test-tmp');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(path.join(base, `${label}-`));
}

/** Puts the shared test CA (trusted through NODE_EXTRA_CA_CERTS) into a data dir before the server starts. */
export function seedTestCa(dataDir: string): void {
  const caDir = process.env.COFFER_TEST_CA_DIR;
  if (!caDir)
    throw new Error('run tests through `npm test` (scripts/run-tests.mjs), which creates the shared test CA');
  mkdirSync(path.join(dataDir, 'tls'), { recursive: true, mode: 0o700 });
  for (const file of ['ca.pem', 'ca-key.pem'])
    copyFileSync(path.join(caDir, file), path.join(dataDir, 'tls', file));
}

/** A running `coffer server` child process, with everything it printed. */
export class ServerProcess {
  output = '';
  private exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
    });
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  async waitForOutput(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.output.match(pattern);
      if (match) return match;
      if (this.child.exitCode !== null)
        throw new Error(`server exited (${this.child.exitCode}):\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`server did not print ${pattern} in time:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Waits for the process to end by itself (a refused start): its exit code. */
  async waitForExit(timeoutMs = 30_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`the server was still running after ${timeoutMs} ms:\n${this.output}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a signal and waits for the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill(signal);
    return this.exited;
  }
}

export function spawnCoffer(args: string[], env: NodeJS.ProcessEnv = {}): ServerProcess {
  const child = spawn(process.execPath, [cofferBin, ...args], {
    cwd: repoRoot,
    // One process unless a test asks for workers: a production server's default is one per CPU,
    // and the suites written for one process (its lock, its log) keep testing one.
    env: { ...process.env, COFFER_LOG_LEVEL: 'info', COFFER_WORKERS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new ServerProcess(child);
}

export interface DevServer {
  dataDir: string;
  facts: DevFacts;
  /** The port it listens on (from `facts.url`). */
  port: number;
  process: ServerProcess;
  credential: ClientSecretCredential;
  secrets: (vaultUrl?: string) => SecretClient;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/**
 * COFFER_TEST_WORKERS=N runs the dev servers of a suite as `--workers N` (scripts/run-tests.mjs
 * runs the main e2e suites a second time so): the same behaviour is owed by N processes.
 */
export function testWorkers(): string[] {
  const workers = process.env.COFFER_TEST_WORKERS;
  return workers ? ['--workers', workers] : [];
}

/** `coffer server --dev` on a free port, as CONTRACT section 2 says, ready when dev.json is written. */
export async function startDevServer(
  options: { dataDir?: string; env?: NodeJS.ProcessEnv; port?: number; workers?: number } = {},
): Promise<DevServer> {
  const dataDir = options.dataDir ?? scratchDir('dev');
  seedTestCa(dataDir);
  const server = spawnCoffer(
    [
      'server',
      '--dev',
      '--data-dir',
      dataDir,
      '--port',
      String(options.port ?? 0),
      ...(options.workers ? ['--workers', String(options.workers)] : testWorkers()),
    ],
    options.env,
  );
  await server.waitForOutput(/"caFile": "[^"]+"/);
  const facts = JSON.parse(readFileSync(path.join(dataDir, 'dev.json'), 'utf8')) as DevFacts;
  const credential = credentialFor(facts, facts.clientId, facts.clientSecret);
  return {
    dataDir,
    facts,
    port: Number(new URL(facts.url).port),
    process: server,
    credential,
    secrets: (vaultUrl = facts.vaultUrl) => new SecretClient(vaultUrl, credential),
    stop: (signal) => server.stop(signal),
  };
}

export function credentialFor(
  facts: Pick<DevFacts, 'tenantId' | 'authorityHost'>,
  clientId: string,
  clientSecret: string,
) {
  return new ClientSecretCredential(facts.tenantId, clientId, clientSecret, {
    authorityHost: facts.authorityHost,
    disableInstanceDiscovery: true,
  });
}

let template: Promise<string> | undefined;

/**
 * A stopped dev server's data dir holding one secret (`kept` = `still here`), made once per test
 * process; each caller gets a copy of its own to start, damage or roll back. Saves a first start
 * (TLS files, initialisation) per test.
 */
export async function copyOfDevStore(): Promise<string> {
  template ??= (async () => {
    const server = await startDevServer();
    await server.secrets().setSecret('kept', 'still here');
    const code = await server.stop('SIGTERM');
    if (code !== 0) throw new Error(`the template server exited ${code}:\n${server.process.output}`);
    return server.dataDir;
  })();
  const copy = scratchDir('dev-copy');
  cpSync(await template, copy, { recursive: true });
  return copy;
}
