import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import { cofferCli, cofferJson } from './helpers/coffer-cli.js';
import { fetchToken, rawRequest } from './helpers/http.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// A vault's firewall (issue 5) over two loopback addresses: the server listens on 127.0.0.1, and
// a client binds its end of the connection to 127.0.0.1 or 127.0.0.2, so the server sees two
// different peers on one machine. Rules are set through the CLI, as an operator would.

const VAULT = 'firewalled';
const SECOND = '127.0.0.2';

interface VaultView {
  vaultUrl: string;
  networkAcls: { defaultAction: string; ipRules: { value: string }[] };
}

describe('network rules', () => {
  let server: DevServer;
  let vaultUrl: string;
  const agents: https.Agent[] = [];

  /** A SecretClient whose connections leave from the given loopback address. */
  const clientFrom = (localAddress: string) => {
    const agent = new https.Agent({ localAddress, keepAlive: false });
    agents.push(agent);
    return new SecretClient(vaultUrl, server.credential, { agent, retryOptions: { maxRetries: 0 } });
  };
  const cli = (...args: string[]) => cofferJson<VaultView>(server.dataDir, args);

  const assertFirewalled = async (promise: Promise<unknown>) => {
    await assert.rejects(promise, (error: { statusCode?: number; details?: unknown }) => {
      assert.equal(error.statusCode, 403);
      // The SDK parses the body into `details` (Azure's `innererror` becomes `innerError`).
      const body = error.details as { error: { code: string; innerError?: { code: string } } };
      assert.equal(body.error.code, 'Forbidden');
      assert.equal(body.error.innerError?.code, 'ForbiddenByFirewall');
      return true;
    });
  };

  before(async () => {
    server = await startDevServer();
    vaultUrl = (await cli('vault', 'create', VAULT)).vaultUrl;
    await server.secrets(vaultUrl).setSecret('s', 'value');
  });
  after(async () => {
    for (const agent of agents) agent.destroy();
    await server?.stop();
  });

  it('is open to every address until rules are set', async () => {
    assert.equal((await clientFrom(SECOND).getSecret('s')).value, 'value');
  });

  it('Deny with only 127.0.0.1/32 allowed: 127.0.0.1 gets in, 127.0.0.2 gets 403 ForbiddenByFirewall', async () => {
    await cli('vault', 'network-rule', 'add', VAULT, '--ip-address', '127.0.0.1/32');
    const vault = await cli('vault', 'update', VAULT, '--default-action', 'Deny');
    assert.deepEqual(vault.networkAcls, { defaultAction: 'Deny', ipRules: [{ value: '127.0.0.1/32' }] });
    assert.equal((await clientFrom('127.0.0.1').getSecret('s')).value, 'value');
    await assertFirewalled(clientFrom(SECOND).getSecret('s'));
  });

  it('health endpoints stay open to a refused address', async () => {
    for (const path of ['/healthz', '/readyz']) {
      const response = await rawRequest(`${server.facts.url}${path}`, { localAddress: SECOND });
      assert.equal(response.status, 200, path);
    }
  });

  it('X-Forwarded-For from an untrusted peer is ignored, both ways', async () => {
    const { facts } = server;
    const token = await fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
    const get = (localAddress: string, forwardedFor: string) =>
      rawRequest(`${vaultUrl}/secrets/s?api-version=7.6`, {
        localAddress,
        headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': forwardedFor },
      });
    const claimed = await get(SECOND, '127.0.0.1');
    assert.equal(claimed.status, 403, 'a refused peer cannot claim an allowed address');
    assert.match(claimed.text, /ForbiddenByFirewall/);
    assert.equal(
      (await get('127.0.0.1', SECOND)).status,
      200,
      'an allowed peer is judged by its own address',
    );
  });

  it('adding 127.0.0.2 lets it in; removing it shuts it out again', async () => {
    await cli('vault', 'network-rule', 'add', VAULT, '--ip-address', SECOND);
    assert.equal((await clientFrom(SECOND).getSecret('s')).value, 'value');
    const list = await cofferJson<VaultView['networkAcls']>(server.dataDir, [
      'vault',
      'network-rule',
      'list',
      VAULT,
    ]);
    assert.deepEqual(list.ipRules, [{ value: '127.0.0.1/32' }, { value: '127.0.0.2/32' }]);
    await cli('vault', 'network-rule', 'remove', VAULT, '--ip-address', '127.0.0.2/32');
    await assertFirewalled(clientFrom(SECOND).getSecret('s'));
  });

  it('Allow opens the vault again whatever the rules', async () => {
    await cli('vault', 'update', VAULT, '--default-action', 'Allow');
    assert.equal((await clientFrom(SECOND).getSecret('s')).value, 'value');
  });

  it('parses IPv6 rules and refuses malformed ones with one clear line', async () => {
    await cli('vault', 'network-rule', 'add', VAULT, '--ip-address', '2001:db8::/32');
    const vault = await cli('vault', 'network-rule', 'add', VAULT, '--ip-address', '::1');
    assert.deepEqual(
      vault.networkAcls.ipRules.map((rule) => rule.value),
      ['127.0.0.1/32', '2001:db8::/32', '::1/128'],
    );
    for (const bad of ['2001:db8::/129', '10.0.0.0/33', 'not-an-address', '10.0.0.1/8/8']) {
      const result = await cofferCli(server.dataDir, [
        'vault',
        'network-rule',
        'add',
        VAULT,
        '--ip-address',
        bad,
      ]);
      assert.notEqual(result.code, 0, bad);
      assert.match(result.stderr, /^coffer: .*is not an IP address range/, bad);
      assert.equal(result.stderr.split('\n').length, 2, 'one line');
    }
  });

  it('the admin API validates networkAcls in PATCH with a 400', async () => {
    const { facts } = server;
    const token = await fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
    const patch = (networkAcls: unknown) =>
      rawRequest(`${facts.url}/coffer/vaults/${VAULT}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ networkAcls }),
      });
    assert.equal((await patch({ defaultAction: 'Block' })).status, 400);
    const bad = await patch({ ipRules: [{ value: '300.1.1.1' }] });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /BadParameter/);
    const good = await patch({ defaultAction: 'Deny', ipRules: [{ value: 'fe80::/10' }] });
    assert.equal(good.status, 200);
    assert.deepEqual((good.json() as VaultView).networkAcls, {
      defaultAction: 'Deny',
      ipRules: [{ value: 'fe80::/10' }],
    });
    await assertFirewalled(clientFrom('127.0.0.1').getSecret('s'));
  });
});
