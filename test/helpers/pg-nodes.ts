import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { PgTestCluster } from '../../src/storage/postgres/pg-test-cluster.js';
import { fetchToken, type RawResponse } from './http.js';
import { type ProductionServer, startProductionServer } from './production-server.js';
import { cofferBin, credentialFor, repoRoot, scratchDir } from './server-process.js';

export interface InitResult {
  shares: string[];
  tenantId: string;
  objectId: string;
  clientId: string;
  clientSecret: string;
}

/** Production `coffer server` nodes over one PostgreSQL database, on loopback ports. */
export interface PgInstallation {
  pg: PgTestCluster;
  nodes: ProductionServer[];
  init: InitResult;
  /** A node's own token for the first administrator: each node is its own token issuer URL. */
  adminToken(node: ProductionServer): Promise<string>;
  /** An API call as the administrator, failing the test on an unexpected status. */
  adminApi(
    node: ProductionServer,
    method: string,
    apiPath: string,
    body?: unknown,
    expect?: number,
  ): Promise<RawResponse>;
  credential(
    node: ProductionServer,
    clientId: string,
    clientSecret: string,
  ): ReturnType<typeof credentialFor>;
  startNode(env?: NodeJS.ProcessEnv): Promise<ProductionServer>;
  stop(): Promise<void>;
}

/**
 * A throwaway PostgreSQL server (or the one given), `count` nodes on it, initialised with 3
 * shares (threshold 2) by an init sent to every node at once, and every node unsealed with
 * `coffer operator unseal --url NODE`, as an operator would.
 */
export async function startPgInstallation(
  count: number,
  options: { env?: NodeJS.ProcessEnv; pg?: PgTestCluster; databaseUrl?: string } = {},
): Promise<PgInstallation> {
  const pg = options.pg ?? (await PgTestCluster.create(path.join(scratchDir('pg'), 'primary')));
  const env = { COFFER_STORAGE_URL: options.databaseUrl ?? pg.url(), ...options.env };
  const startNode = (extra: NodeJS.ProcessEnv = {}) => startProductionServer({ env: { ...env, ...extra } });
  const nodes: ProductionServer[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    if (!options.pg) pg.stop();
  };
  try {
    nodes.push(...(await Promise.all(Array.from({ length: count }, () => startNode()))));
    return await initialise(pg, nodes, startNode, stop);
  } catch (error) {
    // A set-up that fails half way must not leave servers running after the test.
    await stop();
    throw error;
  }
}

async function initialise(
  pg: PgTestCluster,
  nodes: ProductionServer[],
  startNode: PgInstallation['startNode'],
  stop: () => Promise<void>,
): Promise<PgInstallation> {
  // Operators racing: init sent to every node at once initialises once; the others answer 409.
  const answers = await Promise.all(
    nodes.map((node) => node.api('POST', '/coffer/operator/init', { body: { shares: 3, threshold: 2 } })),
  );
  const initialised = answers.filter((answer) => answer.status === 200);
  assert.equal(initialised.length, 1, answers.map((answer) => `${answer.status} ${answer.text}`).join('\n'));
  for (const answer of answers) assert.ok(answer.status === 200 || answer.status === 409, answer.text);
  const init = initialised[0]!.json() as InitResult;
  for (const node of nodes) await unsealWithCli(node, init.shares.slice(0, 2));

  const tokens = new Map<ProductionServer, string>();
  const adminToken = async (node: ProductionServer) => {
    if (!tokens.has(node))
      tokens.set(node, await fetchToken(node.url, init.tenantId, init.clientId, init.clientSecret));
    return tokens.get(node)!;
  };
  return {
    pg,
    nodes,
    init,
    adminToken,
    async adminApi(node, method, apiPath, body, expect) {
      const response = await node.api(method, apiPath, { body, token: await adminToken(node) });
      if (expect !== undefined)
        assert.equal(response.status, expect, `${method} ${apiPath}: ${response.text}`);
      return response;
    },
    credential: (node, clientId, clientSecret) =>
      credentialFor({ tenantId: init.tenantId, authorityHost: node.url }, clientId, clientSecret),
    startNode,
    stop,
  };
}

/** `coffer operator unseal SHARE --url NODE`, one share at a time, until the node opens. */
export async function unsealWithCli(node: ProductionServer, shares: string[]): Promise<void> {
  let status: { sealed: boolean } | undefined;
  for (const share of shares) {
    const result = await runCoffer(['operator', 'unseal', share, '--url', node.url, '--output', 'json']);
    assert.equal(result.code, 0, `unseal of ${node.url} failed: ${result.stderr}`);
    status = JSON.parse(result.stdout) as { sealed: boolean };
  }
  assert.equal(status?.sealed, false, `${node.url} is still sealed`);
}

/** `coffer ARGS` as an operator runs it on a host; `input` is piped to its stdin. */
export function runCoffer(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [cofferBin, ...args],
      { cwd: repoRoot, timeout: 60_000, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input ?? '');
  });
}

/** Polls until `check` holds; returns how long that took (ms), or fails after `ms`. */
export async function within(ms: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > ms) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
