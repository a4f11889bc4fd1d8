import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearerRequest, fetchToken } from './helpers/http.js';
import { within } from './helpers/pg-nodes.js';
import { eventually } from './helpers/audit.js';
import { cofferJson, followAuditTail } from './helpers/coffer-cli.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

/** Enough new connections that two workers accepting from one socket both serve several. */
const READS = 16;
/** Queries on new connections: each may reach either worker, and every one must answer for both. */
const QUERIES = 8;

interface AuditAnswer {
  value: Array<{ sequence: number; worker?: number; operationName: string; properties: { id?: string } }>;
  nextLink?: string;
}

/** A request on a connection of its own, so that the kernel may hand it to either worker. */
function fresh(url: string, token: string, method = 'GET', body?: unknown) {
  return bearerRequest(url, token, method, body, { freshConnection: true, timeoutMs: 10_000 });
}

const secretOf = (record: AuditAnswer['value'][number]) =>
  /\/secrets\/([^/?#]+)/.exec(record.properties.id ?? '')?.[1];

describe('coffer server --workers 2: the audit query answers for every worker', () => {
  let server: DevServer;
  let token: string;
  const names = Array.from({ length: READS }, (_, i) => `audited-${i}`);
  const query = async (params: string) => {
    const response = await fresh(`${server.facts.url}/coffer/audit/records?${params}`, token);
    assert.equal(response.status, 200, response.text);
    return response.json() as AuditAnswer;
  };

  before(async () => {
    server = await startDevServer({ workers: 2 });
    await server.process.waitForOutput(/all 2 workers are serving/);
    const { facts } = server;
    token = await fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
    for (const name of names) {
      const set = await fresh(`${facts.vaultUrl}/secrets/${name}?api-version=7.5`, token, 'PUT', {
        value: 'v',
      });
      assert.equal(set.status, 200, set.text);
    }
    // Each read on a new connection: the kernel spreads them over both workers.
    for (const name of names) {
      const read = await fresh(`${facts.vaultUrl}/secrets/${name}?api-version=7.5`, token);
      assert.equal(read.status, 200, read.text);
    }
  });

  after(async () => {
    await server?.stop();
  });

  it('holds the reads served by both workers in every answer, whichever worker answers', async () => {
    const all = `operation=SecretGet&vault=${server.facts.vaultName}&limit=1000`;
    // The indexes catch up a little after the answers: wait until one answer holds every read.
    await within(20_000, 'an answer holds every read', async () => {
      const answer = await query(all);
      return names.every((name) => answer.value.some((record) => secretOf(record) === name));
    });
    for (let i = 0; i < QUERIES; i++) {
      const answer = await query(all);
      assert.deepEqual(
        [...new Set(answer.value.map(secretOf))].sort(),
        [...names].sort(),
        'every secret read, whichever worker served it',
      );
      assert.equal(answer.value.length, READS);
      // Both workers served reads, and each record says whose chain it belongs to.
      assert.deepEqual([...new Set(answer.value.map((record) => record.worker))].sort(), [0, 1]);
    }
  });

  it('pages through the merged records with nextLink, without duplicates or gaps', async () => {
    const whole = await query(`vault=${server.facts.vaultName}&limit=1000`);
    const key = (record: AuditAnswer['value'][number]) => `${record.worker}/${record.sequence}`;
    for (const order of ['asc', 'desc']) {
      const seen: string[] = [];
      let link: string | undefined =
        `/coffer/audit/records?vault=${server.facts.vaultName}&order=${order}&limit=5`;
      while (link) {
        const response = await fresh(`${server.facts.url}${link}`, token);
        assert.equal(response.status, 200, response.text);
        const page = response.json() as AuditAnswer;
        seen.push(...page.value.map(key));
        link = page.nextLink;
      }
      assert.equal(new Set(seen).size, seen.length, `no record twice (${order})`);
      // Every record of the whole answer is on some page (later ones may have come meanwhile).
      const missing = whole.value.map(key).filter((k) => !seen.includes(k));
      assert.deepEqual(missing, [], `no gap (${order})`);
    }
  });

  it('filters every worker by object and by vault', async () => {
    for (const name of names.slice(0, 4)) {
      const answer = await query(`object=secrets/${name}&operation=SecretGet`);
      assert.equal(answer.value.length, 1, `one read of ${name}`);
      assert.equal(secretOf(answer.value[0]!), name);
    }
    const elsewhere = await query('vault=no-such-vault');
    assert.deepEqual(elsewhere.value, []);
  });

  it('refuses a damaged continuation and a lone sequence with a clear 400', async () => {
    for (const params of ['continuation=a.1', 'continuation=zz', 'continuation=d.1.2&order=asc', 'after=3']) {
      const response = await fresh(`${server.facts.url}/coffer/audit/records?${params}`, token);
      assert.equal(response.status, 400, `${params}: ${response.text.slice(0, 300)}`);
      const body = response.json() as { error: { code: string; message: string } };
      assert.match(body.error.message, /continuation|after/);
    }
  });

  it('coffer audit query and tail --follow show the records of both workers', async () => {
    const cli = await cofferJson<AuditAnswer['value']>(server.dataDir, [
      'audit',
      'query',
      '--operation',
      'SecretGet',
      '--vault',
      server.facts.vaultName,
    ]);
    assert.deepEqual([...new Set(cli.map(secretOf))].sort(), [...names].sort());
    assert.deepEqual([...new Set(cli.map((record) => record.worker))].sort(), [0, 1]);

    // The follower keeps one connection, to one worker: what the other serves must reach it too.
    const follower = followAuditTail<AuditAnswer['value'][number]>(server.dataDir);
    try {
      await eventually(() => follower.lines().length >= 1, 'the first line');
      const later = names; // as many new connections as the workers e2e needs to reach both
      for (const name of later) {
        const read = await fresh(`${server.facts.vaultUrl}/secrets/${name}?api-version=7.5`, token);
        assert.equal(read.status, 200);
      }
      const followed = () =>
        follower
          .lines()
          .slice(1)
          .filter((record) => record.operationName === 'SecretGet');
      await eventually(() => followed().length >= later.length, 'the new reads');
      assert.deepEqual(followed().map(secretOf).sort(), [...later].sort(), 'each new read once');
      assert.deepEqual([...new Set(followed().map((record) => record.worker))].sort(), [0, 1]);
    } finally {
      follower.stop();
    }
  });
});
