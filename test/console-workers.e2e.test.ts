import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authCodeClient, pkcePair } from './helpers/auth-code.js';
import { consoleRequest, consoleSignIn, csrfOf, setCookie } from './helpers/console-http.js';
import { adminToken, bearerRequest, rawRequest } from './helpers/http.js';
import { within } from './helpers/pg-nodes.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

const PASSWORD = 'correct horse battery staple';
const USER = 'dora@coffer.test';
/** Enough new connections that the kernel hands them to both workers many times. */
const BURST = 16;
/** Codes redeemed twice at once: each pair lands on the workers independently. */
const TRIALS = 8;

/**
 * Issues 16 and 18: with `--workers 2` the kernel hands each new connection to either worker, so
 * a browser's sign-in steps, its next pages and the console's code redemption reach processes
 * that did not start them. Sessions, sign-ins in progress and authorization codes live in the
 * shared store, so every worker knows them, and single use holds across workers.
 */
describe('console sessions and authorization codes across two worker processes', () => {
  let server: DevServer;
  let origin: string;

  before(async () => {
    server = await startDevServer({ workers: 2 });
    await server.process.waitForOutput(/all 2 workers are serving/);
    origin = server.facts.url;
    const token = await adminToken(server.facts);
    const created = await bearerRequest(`${origin}/coffer/users`, token, 'POST', {
      userPrincipalName: USER,
      password: PASSWORD,
    });
    assert.equal(created.status, 201, created.text);
    const assigned = await bearerRequest(`${origin}/coffer/roles/assignments`, token, 'POST', {
      role: 'Key Vault Secrets Officer',
      principalId: USER,
      scope: `/vaults/${server.facts.vaultName}`,
    });
    assert.equal(assigned.status, 201, assigned.text);
    // Both workers serve before the tests rely on landing on either.
    const members = new Set<string>();
    await within(20_000, 'new connections reach both workers', async () => {
      const nodes = await rawRequest(`${origin}/coffer/operator/nodes`, {
        headers: { authorization: `Bearer ${token}` },
        freshConnection: true,
      });
      members.add((nodes.json() as { node: { memberId: string } }).node.memberId);
      return members.size === 2;
    });
  });

  after(async () => {
    await server?.stop();
  });

  it('signs in and stays signed in over many new connections: pages, a write with its CSRF token and its flash', async () => {
    const vault = server.facts.vaultName;
    for (let attempt = 0; attempt < 4; attempt++) {
      const { session } = await consoleSignIn(origin, USER, PASSWORD, true);
      for (let i = 0; i < BURST; i++) {
        const page = await consoleRequest(`${origin}/ui/vaults/${vault}/secrets`, session, {
          freshConnection: true,
        });
        assert.equal(page.status, 200, `page ${i} after sign-in ${attempt}: ${page.status} ${page.text}`);
      }
      const csrf = csrfOf(
        await consoleRequest(`${origin}/ui/vaults/${vault}/secrets`, session, { freshConnection: true }),
      );
      const name = `across-workers-${attempt}`;
      const written = await consoleRequest(`${origin}/ui/vaults/${vault}/secrets`, session, {
        form: { name, value: 'v', _csrf: csrf },
        origin,
        freshConnection: true,
      });
      assert.equal(written.status, 303, written.text);
      // The flash the write left is shown once, by whichever worker serves the next page.
      const next = await consoleRequest(`${origin}${String(written.headers.location)}`, session, {
        freshConnection: true,
      });
      assert.equal(next.status, 200, next.text);
      assert.match(next.text, new RegExp(`Secret ${name} set\\.`));
      const again = await consoleRequest(`${origin}${String(written.headers.location)}`, session, {
        freshConnection: true,
      });
      assert.doesNotMatch(again.text, new RegExp(`Secret ${name} set\\.`), 'a flash is shown once');
    }
  });

  it('signs out on one connection and the cookie opens nothing on any new connection', async () => {
    const { session } = await consoleSignIn(origin, USER, PASSWORD, true);
    const csrf = csrfOf(await consoleRequest(`${origin}/ui/vaults`, session, { freshConnection: true }));
    const out = await consoleRequest(`${origin}/ui/sign-out`, session, {
      form: { _csrf: csrf },
      freshConnection: true,
    });
    assert.equal(out.status, 200, out.text);
    assert.match(String(setCookie(out, '__Host-coffer-session')), /Max-Age=0/);
    for (let i = 0; i < BURST; i++) {
      const page = await consoleRequest(`${origin}/ui/vaults`, session, { freshConnection: true });
      assert.equal(page.status, 303, `connection ${i}`);
      assert.equal(page.headers.location, '/ui/sign-in');
    }
  });

  it('redeems an authorization code on any worker, and exactly once when redeemed twice at once', async () => {
    const client = authCodeClient(server.facts);
    for (let trial = 0; trial < TRIALS; trial++) {
      const { verifier, challenge } = pkcePair();
      const code = await client.code(USER, PASSWORD, challenge);
      const redeem = () => client.redeem({ code, code_verifier: verifier }, undefined, true);
      const answers = await Promise.all([redeem(), redeem()]);
      const statuses = answers.map((answer) => answer.status).sort();
      assert.deepEqual(statuses, [200, 400], `trial ${trial}: ${answers.map((a) => a.text).join(' | ')}`);
      const refused = answers.find((answer) => answer.status === 400)!;
      assert.equal((refused.json() as { error: string }).error, 'invalid_grant');
    }
  });
});
