import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import { SignJWT } from 'jose';
import { selfSignedCertificate } from './helpers/client-certificate.js';
import { rawRequest } from './helpers/http.js';
import { type PgInstallation, startPgInstallation, within } from './helpers/pg-nodes.js';
import type { ProductionServer } from './helpers/production-server.js';

interface NodeView {
  node: {
    memberId: string;
    mode: string;
    leader: boolean;
    feedLive: boolean;
    staleBoundMs: number;
    lastSweepAt: string | null;
  };
  members: Array<{ memberId: string; url: string | null; leader: boolean }>;
}

/** Scheduling on a loaded 2-core CI machine, beyond the bound the nodes state. */
const SLACK_MS = 1000;

describe('three nodes over one PostgreSQL database (official SDKs)', () => {
  let installation: PgInstallation;
  let nodes: ProductionServer[];
  const vault = 'hashared';

  before(async () => {
    installation = await startPgInstallation(3, { env: { COFFER_PURGE_INTERVAL_SECONDS: '1' } });
    nodes = installation.nodes;
    await installation.adminApi(nodes[0]!, 'POST', '/coffer/vaults', { name: vault }, 201);
  });

  after(async () => {
    await installation?.stop();
  });

  const secretsOn = (
    node: ProductionServer,
    clientId = installation.init.clientId,
    secret = installation.init.clientSecret,
  ) => new SecretClient(node.vaultUrl(vault), installation.credential(node, clientId, secret));
  const newPrincipal = async (name: string) =>
    (await installation.adminApi(nodes[0]!, 'POST', '/coffer/principals', { name }, 201)).json() as {
      objectId: string;
      clientId: string;
      clientSecret: string;
    };
  const view = async (node: ProductionServer) =>
    (await installation.adminApi(node, 'GET', '/coffer/operator/nodes', undefined, 200)).json() as NodeView;

  it('serves a secret set on node A from nodes B and C, and a change made on B from A at once after', async () => {
    const [a, b, c] = nodes.map((node) => secretsOn(node));
    await a!.setSecret('shared', 'from-a');
    assert.equal((await b!.getSecret('shared')).value, 'from-a');
    assert.equal((await c!.getSecret('shared')).value, 'from-a');

    // A has read (and cached) the value: B's update must still reach A's readers within the bound.
    const bound = (await view(nodes[0]!)).node.staleBoundMs;
    await b!.setSecret('shared', 'from-b');
    const took = await within(
      bound + SLACK_MS,
      "A serves B's update",
      async () => (await a!.getSecret('shared')).value === 'from-b',
    );
    assert.ok(took <= bound + SLACK_MS, `A saw B's write after ${took} ms`);
  });

  it('refuses on node C a caller whose role was removed on node A, within the stated bound', async () => {
    const reader = await newPrincipal('reader');
    const assignment = (
      await installation.adminApi(
        nodes[0]!,
        'POST',
        '/coffer/roles/assignments',
        {
          role: 'Key Vault Secrets User',
          principalId: reader.objectId,
          scope: `/vaults/${vault}`,
        },
        201,
      )
    ).json() as { id: string };
    await secretsOn(nodes[0]!).setSecret('guarded', 'v');
    const onC = secretsOn(nodes[2]!, reader.clientId, reader.clientSecret);
    assert.equal((await onC.getSecret('guarded')).value, 'v');

    const bound = (await view(nodes[2]!)).node.staleBoundMs;
    await installation.adminApi(
      nodes[0]!,
      'DELETE',
      `/coffer/roles/assignments/${assignment.id}`,
      undefined,
      204,
    );
    const took = await within(bound + SLACK_MS, 'C refuses the reader', async () =>
      onC.getSecret('guarded').then(
        () => false,
        (error: { statusCode?: number }) => error.statusCode === 403,
      ),
    );
    assert.ok(took <= bound + SLACK_MS, `C still allowed the removed role for ${took} ms`);
  });

  it('refuses on node B a client assertion node A already accepted', async () => {
    const client = await newPrincipal('cert-client');
    const certificate = await selfSignedCertificate();
    await installation.adminApi(
      nodes[0]!,
      'POST',
      `/coffer/principals/${client.clientId}/certificates`,
      {
        certificate: certificate.certPem,
      },
      201,
    );
    const endpoint = (node: ProductionServer) =>
      `${node.url}/${installation.init.tenantId}/oauth2/v2.0/token`;
    // One assertion whose audience names both nodes' token endpoints (RFC 7523 allows a list), so
    // only the replay memory can tell B that A already took it.
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({
      aud: [endpoint(nodes[0]!), endpoint(nodes[1]!)],
      iss: client.clientId,
      sub: client.clientId,
      jti: randomUUID(),
      nbf: now,
      exp: now + 600,
    })
      .setProtectedHeader({ alg: 'RS256', 'x5t#S256': certificate.x5tS256 })
      .sign(certificate.privateKey);
    const exchange = (node: ProductionServer) =>
      rawRequest(endpoint(node), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: client.clientId,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
          scope: 'https://vault.localhost/.default',
        }).toString(),
      });
    const first = await exchange(nodes[0]!);
    assert.equal(first.status, 200, first.text);
    const replayed = await exchange(nodes[1]!);
    assert.equal(replayed.status, 401, replayed.text);
    assert.match(replayed.text, /already used/);
  });

  it('throttles a client whose failures are spread over two nodes', async () => {
    const target = await newPrincipal('guessed');
    const bad = (node: ProductionServer, secret: string) =>
      rawRequest(`${node.url}/${installation.init.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: target.clientId,
          client_secret: secret,
          scope: 'https://vault.localhost/.default',
        }).toString(),
      });
    // Ten failures are answered per client and minute, the next attempt is refused: 6 on A and 4
    // on B make the ten.
    for (let i = 0; i < 6; i++) assert.equal((await bad(nodes[0]!, 'wrong')).status, 401);
    for (let i = 0; i < 4; i++) assert.equal((await bad(nodes[1]!, 'wrong')).status, 401);
    // B alone saw four: only A's published failures can make it refuse even the right secret.
    await within(
      5000,
      'B throttles the client',
      async () => (await bad(nodes[1]!, target.clientSecret)).status === 429,
    );
  });

  it('hands the sweeps to another node within seconds when the leader is killed with SIGKILL under load', async () => {
    const leaderOf = async (candidates: ProductionServer[]) => {
      const views = await Promise.all(candidates.map(view));
      return candidates.filter((_, index) => views[index]!.node.leader);
    };
    await within(10_000, 'one node leads', async () => (await leaderOf(nodes)).length === 1);
    const [leader] = await leaderOf(nodes);
    const survivors = nodes.filter((node) => node !== leader);
    assert.equal((await leaderOf(survivors)).length, 0, 'exactly one leader');

    // Writers on every node while the leader dies: the survivors' writes all succeed.
    let writing = true;
    const acknowledged = new Map<string, string>();
    const survivorFailures: string[] = [];
    const writer = async (node: ProductionServer, label: string) => {
      const client = secretsOn(node);
      for (let i = 0; writing; i++) {
        try {
          await client.setSecret(`load-${label}-${i}`, `v${i}`);
          acknowledged.set(`load-${label}-${i}`, `v${i}`);
        } catch (error) {
          if (node !== leader) survivorFailures.push((error as Error).message);
          if (node === leader) return;
        }
      }
    };
    const load = Promise.all(nodes.map((node, index) => writer(node, String(index))));
    await within(10_000, 'writes under way', async () => acknowledged.size >= 10);
    const killedAt = Date.now();
    await leader!.stop('SIGKILL');
    try {
      const took = await within(15_000, 'another node leads and sweeps', async () => {
        const views = await Promise.all(survivors.map(view));
        const leading = views.filter((entry) => entry.node.leader);
        return leading.length === 1 && Date.parse(leading[0]!.node.lastSweepAt ?? '') > killedAt;
      });
      assert.ok(took < 15_000, `handover took ${took} ms`);
      assert.equal((await leaderOf(survivors)).length, 1, 'still exactly one leader');
    } finally {
      writing = false;
      await load;
    }
    assert.deepEqual(survivorFailures, [], 'the other nodes kept serving');
    const reader = secretsOn(survivors[0]!);
    for (const [name, value] of acknowledged) assert.equal((await reader.getSecret(name)).value, value, name);
    nodes = survivors;
  });
});
