import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { adminApi, type TestPrincipal } from './helpers/arm.js';
import { cofferCli } from './helpers/coffer-cli.js';
import {
  type DevServer,
  scratchDir,
  type ServerProcess,
  spawnCoffer,
  startDevServer,
} from './helpers/server-process.js';

// Issue 12, point 6: `coffer agent` holds one service principal's certificate and serves the
// App Service managed identity protocol on loopback, so a workload whose environment names only
// IDENTITY_ENDPOINT and IDENTITY_HEADER gets Coffer tokens through DefaultAzureCredential.

const APP = path.resolve(import.meta.dirname, 'helpers/managed-identity-app.js');

interface Agent {
  process: ServerProcess;
  endpoint: string;
  header: string;
}

/** A raw call to the agent, as a local process would make it. */
function callAgent(
  agent: Agent,
  query: string,
  headers: Record<string, string> = { 'x-identity-header': agent.header },
): Promise<{ status: number; body: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${agent.endpoint}?${query}`, { headers }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
      })
      .on('error', reject);
  });
}

describe('coffer agent: managed identity for workloads', () => {
  let server: DevServer;
  let workload: TestPrincipal;
  let agent: Agent;
  let certificateFile: string;
  const vaultResource = () => `https://vault.localhost:${new URL(server.facts.url).port}`;
  const tokenRequests = () =>
    server.process.output.match(/"path":"\/[0-9a-f-]{36}\/oauth2\/v2\.0\/token"/g)?.length ?? 0;

  /** Runs the workload with nothing in its environment but what a managed identity provides. */
  function runWorkload(secretName: string): Promise<{ value: string; environment: string[] }> {
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        [APP, server.facts.vaultUrl, secretName],
        {
          env: {
            IDENTITY_ENDPOINT: agent.endpoint,
            IDENTITY_HEADER: agent.header,
            NODE_EXTRA_CA_CERTS: server.facts.caFile,
          },
          timeout: 30_000,
        },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`workload failed: ${stderr}`, { cause: error }));
          else resolve(JSON.parse(stdout) as { value: string; environment: string[] });
        },
      );
    });
  }

  /** `coffer agent` for the workload's principal, as an operator would start it beside the workload. */
  const agentArgs = (...extra: string[]) => [
    'agent',
    '--client-id',
    workload.clientId,
    '--certificate',
    certificateFile,
    ...extra,
  ];

  async function startAgent(): Promise<Agent> {
    const child = spawnCoffer([...agentArgs('--output', 'json'), '--dev-data-dir', server.dataDir], {
      IDENTITY_HEADER: '',
    });
    const [json] = await child.waitForOutput(/\{[^}]*"identityEndpoint"[^}]*\}/);
    const announced = JSON.parse(json) as {
      identityEndpoint: string;
      identityHeader: string;
      clientId: string;
    };
    assert.equal(announced.clientId, workload.clientId);
    return { process: child, endpoint: announced.identityEndpoint, header: announced.identityHeader };
  }

  before(async () => {
    // At debug the server logs a line per request, which tokenRequests() counts.
    server = await startDevServer({ env: { COFFER_LOG_LEVEL: 'debug' } });
    const { admin, principalWithRole } = await adminApi(server);
    workload = await principalWithRole('workload', 'Key Vault Secrets User', '/vaults/dev');
    // The workload's certificate, made by openssl as an operator would; only its public half is registered.
    const dir = scratchDir('agent');
    certificateFile = path.join(dir, 'workload.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=workload',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const certificate = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    execFileSync('sh', ['-c', `cat "${dir}/cert.pem" "${dir}/key.pem" > "${certificateFile}"`]);
    await admin('POST', `/principals/${workload.objectId}/certificates`, { certificate });
    await server.secrets().setSecret('for-the-app', 'read through a managed identity');
    agent = await startAgent();
  });
  after(async () => {
    assert.equal(await agent?.process.stop(), 0, 'the agent stops cleanly on SIGTERM');
    assert.equal(await server?.stop(), 0);
  });

  it('DefaultAzureCredential reads a secret with nothing but IDENTITY_ENDPOINT and IDENTITY_HEADER', async () => {
    assert.match(agent.endpoint, /^http:\/\/127\.0\.0\.1:\d+\/msi\/token$/);
    const first = await runWorkload('for-the-app');
    assert.equal(first.value, 'read through a managed identity');
    assert.deepEqual(first.environment, ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'NODE_EXTRA_CA_CERTS']);
    // A second workload process gets the agent's cached token: Coffer sees no new token request.
    const before = tokenRequests();
    assert.ok(before > 0, "Coffer's log shows the agent's token request");
    assert.equal((await runWorkload('for-the-app')).value, 'read through a managed identity');
    assert.equal(tokenRequests(), before, 'the token was served from the agent cache');
  });

  it("answers in App Service's shape, with a token for the agent's principal and the resource asked", async () => {
    const { status, body } = await callAgent(
      agent,
      `resource=${encodeURIComponent(vaultResource())}&api-version=2019-08-01`,
    );
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(Object.keys(body).sort(), [
      'access_token',
      'client_id',
      'expires_on',
      'resource',
      'token_type',
    ]);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.resource, vaultResource());
    assert.equal(body.client_id, workload.clientId);
    const claims = decodeJwt(body.access_token!);
    assert.equal(claims.oid, workload.objectId);
    assert.equal(claims.aud, vaultResource());
    assert.equal(String(claims.exp), body.expires_on);
    // Resource Manager tokens too, for workloads that manage vaults.
    const management = await callAgent(
      agent,
      `resource=${encodeURIComponent('https://management.azure.com/')}&api-version=2019-08-01`,
    );
    assert.equal(decodeJwt(management.body.access_token!).aud, 'https://management.azure.com');
  });

  it('refuses callers without the header, other api-versions, other identities and unknown resources, saying why', async () => {
    const good = `resource=${encodeURIComponent(vaultResource())}&api-version=2019-08-01`;
    const wrongHeaders: Record<string, string>[] = [
      {},
      { 'x-identity-header': 'wrong' },
      { 'x-identity-header': `${agent.header.slice(0, -1)}x` },
    ];
    for (const headers of wrongHeaders) {
      const { status, body } = await callAgent(agent, good, headers);
      assert.equal(status, 401);
      assert.equal(body.error, 'invalid_identity_header');
      assert.equal(body.access_token, undefined);
    }
    const proxied = await callAgent(agent, good, {
      'x-identity-header': agent.header,
      'x-forwarded-for': '203.0.113.9',
    });
    assert.equal(proxied.status, 400);
    assert.match(proxied.body.error_description!, /proxy/);
    assert.match(
      (await callAgent(agent, `resource=x&api-version=2017-09-01`)).body.error_description!,
      /2019-08-01/,
    );
    assert.match((await callAgent(agent, 'api-version=2019-08-01')).body.error_description!, /resource/);
    const someoneElse = await callAgent(agent, `${good}&client_id=00000000-0000-0000-0000-000000000000`);
    assert.equal(someoneElse.status, 400);
    assert.match(someoneElse.body.error_description!, new RegExp(workload.clientId));
    const storage = await callAgent(
      agent,
      `resource=${encodeURIComponent('https://storage.azure.com')}&api-version=2019-08-01`,
    );
    assert.equal(storage.status, 400);
    assert.equal(storage.body.error, 'invalid_scope', 'Coffer says which scopes it serves');
    // Printed once, when the agent started (the operator's to hand on); never logged afterwards.
    assert.equal(agent.process.output.split(agent.header).length - 1, 1, 'the agent logs no header');
    assert.ok(!agent.process.output.includes('eyJ'), 'the agent logs no token');
  });

  it('listens on loopback only, and writes its environment file privately when asked', async () => {
    const refused = await cofferCli(server.dataDir, agentArgs('--host', '0.0.0.0'));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^coffer: .*loopback only/);
    const envFile = path.join(scratchDir('agent-env'), 'identity.env');
    const second = await (async () => {
      const child = spawnCoffer([...agentArgs('--env-out', envFile), '--dev-data-dir', server.dataDir]);
      await child.waitForOutput(/IDENTITY_HEADER in/);
      return child;
    })();
    try {
      assert.equal(statSync(envFile).mode & 0o777, 0o600);
      assert.match(
        readFileSync(envFile, 'utf8'),
        /^IDENTITY_ENDPOINT=http:\/\/127\.0\.0\.1:\d+\/msi\/token\nIDENTITY_HEADER=[\w-]{43}\n$/,
      );
      assert.ok(!second.output.includes('IDENTITY_HEADER='), 'the header went to the file, not to stdout');
    } finally {
      assert.equal(await second.stop(), 0);
    }
  });
});
