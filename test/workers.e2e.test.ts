import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { bearerRequest, fetchToken, type RawResponse, rawRequest } from './helpers/http.js';
import { within } from './helpers/pg-nodes.js';
import { type ProductionServer, startProductionServer } from './helpers/production-server.js';
import { type DevServer, scratchDir, spawnCoffer, startDevServer } from './helpers/server-process.js';

/** Scheduling on a loaded 2-core CI machine, beyond the bound the workers state. */
const SLACK_MS = 1000;
/** Enough new connections that round-robin over two workers reaches both many times. */
const BURST = 16;

/**
 * A request on a connection of its own. The workers accept from one shared socket (the kernel
 * picks which), so a burst of new connections reaches both, though not in strict turn.
 */
function fresh(url: string, options: { method?: string; token?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  return rawRequest(url, {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    freshConnection: true,
    timeoutMs: 10_000,
  });
}

/** The worker processes under a supervisor (Linux: the kernel lists a process's children). */
function workerPids(supervisorPid: number): number[] {
  const children = readFileSync(`/proc/${supervisorPid}/task/${supervisorPid}/children`, 'utf8');
  return children.trim().split(/\s+/).filter(Boolean).map(Number);
}

/**
 * Waits until `bound` (plus scheduling slack) has passed since `changedAt`. A check that passes
 * early may have reached only the worker that made the change; only past the bound must every
 * worker agree.
 */
async function pastBound(changedAt: number, bound: number): Promise<void> {
  const left = changedAt + bound + SLACK_MS - Date.now();
  if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
}

interface NodesView {
  node: { memberId: string; staleBoundMs: number };
}

describe('coffer server --workers 2 (dev mode): one installation served by two processes', () => {
  let server: DevServer;
  let token: string;
  const vaultUrl = () => server.facts.vaultUrl;
  const nodes = async () => {
    const response = await fresh(`${server.facts.url}/coffer/operator/nodes`, { token });
    assert.equal(response.status, 200, response.text);
    return response.json() as NodesView;
  };
  /** The member ids that answer a burst of new connections: one per worker reached. */
  const membersReached = async () => {
    const ids = new Set<string>();
    for (let i = 0; i < BURST; i++) ids.add((await nodes()).node.memberId);
    return ids;
  };

  before(async () => {
    server = await startDevServer({ workers: 2 });
    await server.process.waitForOutput(/all 2 workers are serving/);
    const { facts } = server;
    token = await fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
  });

  after(async () => {
    await server?.stop();
  });

  it('spreads new connections over two worker processes that open the store as members', async () => {
    assert.equal(workerPids(server.process.child.pid!).length, 2);
    // The first worker prints the banner; the second starts once it is ready.
    await within(
      20_000,
      'new connections reach both workers',
      async () => (await membersReached()).size === 2,
    );
  });

  it('serves a write made through one connection on new connections within the stated bound', async () => {
    const bound = (await nodes()).node.staleBoundMs;
    const secrets = server.secrets();
    await secrets.setSecret('shared', 'first');
    for (const value of ['second', 'third']) {
      await secrets.setSecret('shared', value);
      const writtenAt = Date.now();
      const took = await within(bound + SLACK_MS, `every worker reads '${value}'`, async () => {
        const answers = await Promise.all(
          Array.from({ length: 4 }, () => fresh(`${vaultUrl()}/secrets/shared?api-version=7.5`, { token })),
        );
        return answers.every(
          (answer) => answer.status === 200 && (answer.json() as { value: string }).value === value,
        );
      });
      assert.ok(took <= bound + SLACK_MS);
      // Past the bound no worker may serve the old value.
      await pastBound(writtenAt, bound);
      for (let i = 0; i < BURST; i++) {
        const answer = await fresh(`${vaultUrl()}/secrets/shared?api-version=7.5`, { token });
        assert.equal((answer.json() as { value: string }).value, value);
      }
    }
  });

  it('refuses a caller on every worker within the bound once its role is removed', async () => {
    const admin = (method: string, path: string, body?: unknown) =>
      bearerRequest(`${server.facts.url}${path}`, token, method, body);
    const reader = (await admin('POST', '/coffer/principals', { name: 'workers-reader' })).json() as {
      objectId: string;
      clientId: string;
      clientSecret: string;
    };
    const created = await admin('POST', '/coffer/roles/assignments', {
      role: 'Key Vault Secrets User',
      principalId: reader.objectId,
      scope: `/vaults/${server.facts.vaultName}`,
    });
    assert.equal(created.status, 201, created.text);
    const assignment = created.json() as { id: string };
    await server.secrets().setSecret('guarded', 'v');
    const { facts } = server;
    const readerToken = await fetchToken(
      facts.authorityHost,
      facts.tenantId,
      reader.clientId,
      reader.clientSecret,
    );
    const read = () => fresh(`${vaultUrl()}/secrets/guarded?api-version=7.5`, { token: readerToken });
    // Every worker has served the reader (and cached its roles) before the removal.
    for (let i = 0; i < BURST; i++) assert.equal((await read()).status, 200);

    const bound = (await nodes()).node.staleBoundMs;
    const removed = await admin('DELETE', `/coffer/roles/assignments/${assignment.id}`);
    assert.equal(removed.status, 204, removed.text);
    const removedAt = Date.now();
    await within(bound + SLACK_MS, 'both workers refuse the reader', async () => {
      const answers = await Promise.all(Array.from({ length: 4 }, read));
      return answers.every((answer) => answer.status === 403);
    });
    await pastBound(removedAt, bound);
    for (let i = 0; i < BURST; i++) assert.equal((await read()).status, 403, 'no worker still allows it');
  });

  it('restarts a worker killed with SIGKILL while requests keep being served', async () => {
    const supervisor = server.process.child.pid!;
    const [victim, survivor] = workerPids(supervisor);
    process.kill(victim!, 'SIGKILL');
    const started = Date.now();
    let served = 0;
    // Requests go on throughout: a connection handed to the dying worker is retried once, as the SDKs do.
    while (Date.now() - started < 4000) {
      const get = () => fresh(`${vaultUrl()}/secrets/shared?api-version=7.5`, { token });
      const answer: RawResponse = await get().catch(get);
      assert.equal(answer.status, 200, answer.text);
      served++;
    }
    assert.ok(served > 10, `only ${served} requests served in 4 s`);
    await within(20_000, 'the supervisor starts a new worker', async () => {
      const pids = workerPids(supervisor);
      return pids.length === 2 && pids.includes(survivor!) && !pids.includes(victim!);
    });
    await within(20_000, 'the new worker serves', async () => (await membersReached()).size === 2);
    assert.match(server.process.output, /worker \d ended \(SIGKILL\); restarting/);
  });

  it('stops every worker on SIGTERM and exits 0', async () => {
    const pids = workerPids(server.process.child.pid!);
    assert.equal(await server.stop('SIGTERM'), 0);
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), 'worker gone');
  });
});

describe('coffer server --workers 2 (production): unseal and seal reach every worker', () => {
  let server: ProductionServer;
  let init: { shares: string[]; tenantId: string; clientId: string; clientSecret: string };

  before(async () => {
    server = await startProductionServer({ env: { COFFER_WORKERS: '2' } });
    // The first worker prints its line as it listens; the second starts after it.
    await server.process.waitForOutput(/all 2 workers are serving/);
    const response = await fresh(`${server.url}/coffer/operator/init`, {
      method: 'POST',
      body: { shares: 3, threshold: 2 },
    });
    assert.equal(response.status, 200, response.text);
    init = response.json() as typeof init;
  });

  after(async () => {
    await server?.stop();
  });

  const status = async () =>
    (await fresh(`${server.url}/coffer/operator/status`)).json() as { sealed: boolean; progress: number };
  const unseal = (share: string) =>
    fresh(`${server.url}/coffer/operator/unseal`, { method: 'POST', body: { share } });
  /** Every new connection in a burst is served by an open worker: a token, then an operator call. */
  const assertBurstOpen = async (what: string) => {
    const answers = await Promise.all(
      Array.from({ length: BURST }, async () => {
        const token = await fetchToken(server.url, init.tenantId, init.clientId, init.clientSecret);
        return fresh(`${server.url}/coffer/operator/nodes`, { token });
      }),
    );
    for (const answer of answers) assert.equal(answer.status, 200, `${what}: ${answer.text}`);
  };

  it('counts shares given on different connections together, and opens every worker before answering', async () => {
    // Each share on a new connection: they land on different workers, as separate CLI runs would.
    const first = await unseal(init.shares[0]!);
    assert.equal(first.status, 200, first.text);
    for (let i = 0; i < 6; i++)
      assert.equal((await status()).progress, 1, 'every worker holds the first share');
    const second = await unseal(init.shares[1]!);
    assert.equal(second.status, 200, second.text);
    assert.equal((second.json() as { sealed: boolean }).sealed, false);
    for (let i = 0; i < BURST; i++) assert.equal((await status()).sealed, false);
    await assertBurstOpen('after unseal');
  });

  it('seals every worker with one operator seal', async () => {
    const token = await fetchToken(server.url, init.tenantId, init.clientId, init.clientSecret);
    const sealed = await fresh(`${server.url}/coffer/operator/seal`, { method: 'POST', token });
    assert.equal(sealed.status, 200, sealed.text);
    for (let i = 0; i < BURST; i++) {
      const answer = await status();
      assert.equal(answer.sealed, true);
      assert.equal(answer.progress, 0);
    }
  });

  it('resets progress on every worker after shares that do not open the store', async () => {
    const forged = Buffer.from(init.shares[2]!, 'base64');
    forged[0]! ^= 0xff;
    assert.equal((await unseal(init.shares[2]!)).status, 200);
    const wrong = await unseal(forged.toString('base64'));
    assert.equal(wrong.status, 400, wrong.text);
    for (let i = 0; i < 6; i++) assert.equal((await status()).progress, 0, 'no worker keeps the shares');
  });

  it('opens a worker restarted after a SIGKILL with the shares that opened the others', async () => {
    await unseal(init.shares[0]!);
    assert.equal(((await unseal(init.shares[2]!)).json() as { sealed: boolean }).sealed, false);
    const supervisor = server.process.child.pid!;
    const [victim] = workerPids(supervisor);
    process.kill(victim!, 'SIGKILL');
    await within(20_000, 'the supervisor starts a new worker', async () => {
      const pids = workerPids(supervisor);
      return pids.length === 2 && !pids.includes(victim!);
    });
    // The new worker listens only once it is open: no connection meets a sealed worker.
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      const answer = await status().catch((error: Error) =>
        assert.fail(`${error.message}\n${server.process.output}`),
      );
      assert.equal(answer.sealed, false);
    }
    await assertBurstOpen('after the restart');
  });
});

describe('coffer server --workers 2: a start that cannot succeed', () => {
  it("prints the first worker's error once, starts no other worker and exits non-zero", async () => {
    // A production server without a TLS certificate: a configuration error every worker would hit.
    const server = spawnCoffer([
      'server',
      '--data-dir',
      scratchDir('workers-bad'),
      '--port',
      '0',
      '--workers',
      '2',
    ]);
    const code = await server.waitForExit();
    assert.notEqual(code, 0);
    const errors = server.output.match(/needs a TLS certificate/g) ?? [];
    assert.equal(errors.length, 1, server.output);
  });
});
