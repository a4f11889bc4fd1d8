import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from './helpers/audit.js';
import { consoleRequest, consoleSignIn, cookieValue, csrfOf, setCookie } from './helpers/console-http.js';
import { adminToken, bearerRequest, rawRequest } from './helpers/http.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

const PASSWORD = 'correct horse battery staple';

describe('web console over HTTP: cookies, CSRF, sessions, headers', () => {
  let server: DevServer;
  let token: string;
  let origin: string;

  const secretStatus = async (name: string) =>
    (await bearerRequest(`${server.facts.vaultUrl}/secrets/${name}?api-version=7.6`, token, 'GET')).status;

  before(async () => {
    server = await startDevServer();
    origin = server.facts.url;
    token = await adminToken(server.facts);
    const created = await bearerRequest(`${origin}/coffer/users`, token, 'POST', {
      userPrincipalName: 'carol@coffer.test',
      password: PASSWORD,
    });
    assert.equal(created.status, 201, created.text);
    const assigned = await bearerRequest(`${origin}/coffer/roles/assignments`, token, 'POST', {
      role: 'Key Vault Secrets Officer',
      principalId: 'carol@coffer.test',
      scope: '/vaults/dev',
    });
    assert.equal(assigned.status, 201, assigned.text);
  });

  const consoleRequestSession = () => consoleSignIn(origin, 'carol@coffer.test', PASSWORD);

  after(async () => {
    assert.equal(await server.stop('SIGTERM'), 0);
  });

  it('sets its cookies __Host-, HttpOnly, Secure, SameSite=Strict, Path=/, and never gives the browser a token', async () => {
    const { responses } = await consoleSignIn(origin, 'carol@coffer.test', PASSWORD);
    const [start, , callback] = responses;
    for (const header of [
      setCookie(start!, '__Host-coffer-sign-in'),
      setCookie(callback!, '__Host-coffer-session'),
    ]) {
      assert.ok(header, 'cookie set');
      const attributes = header.split(';').map((part) => part.trim().toLowerCase());
      for (const flag of ['httponly', 'secure', 'samesite=strict', 'path=/'])
        assert.ok(attributes.includes(flag), `${flag} in ${header}`);
      assert.ok(!attributes.some((part) => part.startsWith('domain=')), '__Host- cookies name no domain');
    }
    for (const response of responses) {
      const everything = `${JSON.stringify(response.headers)}${response.text}`;
      assert.doesNotMatch(everything, /eyJ[\w-]+\.eyJ/, 'no JWT reaches the browser');
    }
  });

  it('serves pages with a strict CSP and its own script and stylesheet, nothing from elsewhere', async () => {
    const { session } = await consoleSignIn(origin, 'carol@coffer.test', PASSWORD);
    const page = await consoleRequest(`${origin}/ui/vaults/dev/secrets`, session);
    assert.equal(page.status, 200, page.text);
    const csp = String(page.headers['content-security-policy']);
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "frame-ancestors 'none'",
    ])
      assert.ok(csp.includes(directive), `${directive} in ${csp}`);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    assert.doesNotMatch(
      page.text,
      /<script>|<style|\sstyle=|\son[a-z]+=/i,
      'no inline script, style or handler',
    );
    assert.doesNotMatch(page.text, /(src|href)="(https?:)?\/\//, 'no other origin');
    const script = await rawRequest(`${origin}/ui/assets/console.js`);
    assert.equal(script.status, 200);
    assert.match(String(script.headers['content-type']), /^text\/javascript/);
    assert.equal((await rawRequest(`${origin}/ui/assets/../../etc/passwd`)).status, 404);
  });

  it('refuses a write without the CSRF token, with a wrong one, or from another origin, and changes nothing', async () => {
    const { session } = await consoleSignIn(origin, 'carol@coffer.test', PASSWORD);
    const csrf = csrfOf(await consoleRequest(`${origin}/ui/vaults/dev/secrets`, session));
    const url = `${origin}/ui/vaults/dev/secrets`;
    const form = { name: 'csrf-target', value: 'v' };
    for (const [label, options] of [
      ['no token', { form }],
      ['a wrong token', { form: { ...form, _csrf: `${csrf.slice(0, -2)}xx` } }],
      ['another origin', { form: { ...form, _csrf: csrf }, origin: 'https://evil.example' }],
    ] as const) {
      const refused = await consoleRequest(url, session, options);
      assert.equal(refused.status, 403, `${label}: ${refused.text}`);
      assert.match(refused.text, /CSRF token is missing or stale/);
      assert.equal(await secretStatus('csrf-target'), 404, `${label}: nothing written`);
    }
    const accepted = await consoleRequest(url, session, { form: { ...form, _csrf: csrf }, origin });
    assert.equal(accepted.status, 303);
    assert.equal(await secretStatus('csrf-target'), 200, 'the same form with the token is written');
    // The audit log names the user on the console's own records, refused ones included, and on
    // the API call the accepted form made.
    const records = async (operation: string) => {
      const query = `operation=${operation}&caller=carol@coffer.test&limit=1000`;
      const response = await bearerRequest(`${origin}/coffer/audit/records?${query}`, token, 'GET');
      return (response.json() as { value: Array<{ properties: { httpStatusCode: number } }> }).value;
    };
    // The index catches up with the spool in the background: wait for it.
    const statuses = async () =>
      (await records('ConsoleAction')).map((record) => record.properties.httpStatusCode).sort();
    await eventually(
      async () => JSON.stringify(await statuses()) === JSON.stringify([303, 403, 403, 403]),
      'three refused console writes and one accepted, by carol',
    );
    await eventually(async () => (await records('SecretSet')).length === 1, 'one SecretSet, by carol');
  });

  it('without a session: pages send the browser to sign in, writes are refused with 401 and change nothing', async () => {
    const page = await rawRequest(`${origin}/ui/vaults/dev/secrets`);
    assert.equal(page.status, 303);
    assert.equal(page.headers.location, '/ui/sign-in');
    const forged = await consoleRequest(`${origin}/ui/vaults/dev/secrets`, 'not-a-session', {
      form: { name: 'no-session', value: 'v', _csrf: 'x' },
    });
    assert.equal(forged.status, 401);
    assert.equal(await secretStatus('no-session'), 404);
  });

  it('answers a vault name that is no host name with a 400 page that names the rule, never a 500 (found by the fuzz suite)', async () => {
    const { session } = await consoleRequestSession();
    for (const vault of ['%20', 'a.b', '%F4%8F%BF%BFna', 'dev%3A1', 'dev%40evil']) {
      for (const page of ['secrets', 'keys/k1', 'certificates', 'access']) {
        const answer = await consoleRequest(`${origin}/ui/vaults/${vault}/${page}`, session);
        assert.equal(answer.status, 400, `${vault}/${page}: ${answer.text.slice(0, 300)}`);
        assert.match(answer.text, /is not a vault name: use 3-24 letters, digits and hyphens/);
      }
    }
  });

  it('refuses a callback without its sign-in cookie, with another state, or replayed', async () => {
    const start = await rawRequest(`${origin}/ui/sign-in`);
    const signInCookie = cookieValue(setCookie(start, '__Host-coffer-sign-in'));
    const authorize = new URL(String(start.headers.location));
    const form = new URLSearchParams(Object.fromEntries(authorize.searchParams));
    form.set('username', 'carol@coffer.test');
    form.set('password', PASSWORD);
    const signedIn = await rawRequest(`${authorize.origin}${authorize.pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const callback = new URL(String(signedIn.headers.location));
    const withCookie = { headers: { cookie: `__Host-coffer-sign-in=${signInCookie}` } };
    const noCookie = await rawRequest(callback.toString());
    assert.equal(noCookie.status, 400, 'no cookie');
    const otherState = new URL(callback);
    otherState.searchParams.set('state', 'forged');
    assert.equal((await rawRequest(otherState.toString(), withCookie)).status, 400, 'another state');
    // Each refusal above spent the sign-in: the genuine callback cannot complete after a forged one.
    const late = await rawRequest(callback.toString(), withCookie);
    assert.equal(late.status, 400);
    assert.equal(setCookie(late, '__Host-coffer-session'), undefined);
  });

  it('signs out: the session ends on the server, so the old cookie opens nothing', async () => {
    const { session } = await consoleSignIn(origin, 'carol@coffer.test', PASSWORD);
    const csrf = csrfOf(await consoleRequest(`${origin}/ui/vaults`, session));
    const noToken = await consoleRequest(`${origin}/ui/sign-out`, session, { form: {} });
    assert.equal(noToken.status, 403, 'signing out is a write: it takes the token too');
    const out = await consoleRequest(`${origin}/ui/sign-out`, session, { form: { _csrf: csrf } });
    assert.equal(out.status, 200);
    assert.match(String(setCookie(out, '__Host-coffer-session')), /Max-Age=0/);
    const after = await consoleRequest(`${origin}/ui/vaults`, session);
    assert.equal(after.status, 303);
    assert.equal(after.headers.location, '/ui/sign-in');
  });
});
