import assert from 'node:assert/strict';
import { createPublicKey, type JsonWebKey, verify } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { eventually } from './helpers/audit.js';
import { launchChromium, newProfile, signIn } from './helpers/browser.js';
import { Openssl, pemBlock } from './helpers/certificates.js';
import { adminToken, bearerRequest } from './helpers/http.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

const PASSWORD = 'correct horse battery staple';
/** Set to a directory (docs/console) to save screenshots of the main pages there. */
const SCREENSHOTS = process.env.COFFER_CONSOLE_SCREENSHOTS;

describe('web console in chromium (Playwright)', () => {
  let server: DevServer;
  let browser: Browser;
  let token: string;

  const admin = (method: string, apiPath: string, body?: unknown) =>
    bearerRequest(`${server.facts.url}${apiPath}`, token, method, body);

  async function screenshot(page: Page, name: string): Promise<void> {
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  before(async () => {
    server = await startDevServer();
    token = await adminToken(server.facts);
    for (const [upn, administrator] of [
      ['alice@coffer.test', true],
      ['bob@coffer.test', false],
    ] as const) {
      const created = await admin('POST', '/coffer/users', {
        userPrincipalName: upn,
        password: PASSWORD,
        administrator,
      });
      assert.equal(created.status, 201, created.text);
    }
    const assigned = await admin('POST', '/coffer/roles/assignments', {
      role: 'Key Vault Administrator',
      principalId: 'alice@coffer.test',
      scope: '/',
    });
    assert.equal(assigned.status, 201, assigned.text);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    assert.equal(await server.stop('SIGTERM'), 0);
  });

  it('signs in through the authorization code flow; the session cookie is HttpOnly, Secure, SameSite=Strict, __Host-', async () => {
    const profile = await newProfile(browser);
    const page = await profile.newPage();
    await page.goto(`${server.facts.url}/ui/`);
    await screenshot(page, 'sign-in');
    await signIn(page, server.facts.url, 'alice@coffer.test', PASSWORD);
    await page.getByRole('link', { name: 'dev', exact: true }).waitFor();
    await screenshot(page, 'vaults');
    const cookies = await profile.cookies();
    const session = cookies.find((cookie) => cookie.name === '__Host-coffer-session');
    assert.ok(session, `cookies: ${cookies.map((cookie) => cookie.name).join(', ')}`);
    assert.equal(session.httpOnly, true);
    assert.equal(session.secure, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(session.path, '/');
    assert.equal(await page.evaluate('document.cookie'), '', 'no script sees any cookie');
    await profile.close();
  });

  it('creates a secret, reveals it (an audit record of the read appears) and hides it again', async () => {
    const profile = await newProfile(browser);
    const page = await profile.newPage();
    await signIn(page, server.facts.url, 'alice@coffer.test', PASSWORD);
    await page.goto(`${server.facts.url}/ui/vaults/dev/secrets`);
    await page.getByLabel('Name', { exact: true }).fill('db-password');
    await page.getByLabel('Value', { exact: true }).fill('s3cr3t-from-the-console');
    await page.getByLabel('Tags (name=value, one per line)').fill('env=prod');
    await page.getByRole('button', { name: 'Set secret' }).click();
    await page.getByText('Secret db-password set.').waitFor();
    assert.equal(await page.getByText('s3cr3t-from-the-console').count(), 0, 'not shown until revealed');

    const before = await auditCount('SecretGet', 'db-password');
    await page.getByRole('button', { name: 'Reveal' }).click();
    const revealed = page.locator('#revealed-value');
    assert.equal(await revealed.textContent(), 's3cr3t-from-the-console');
    await screenshot(page, 'secret-revealed');
    // The reveal is its own audited read (the index catches up with the spool in the background).
    await eventually(
      async () => (await auditCount('SecretGet', 'db-password')) === before + 1,
      'the reveal record',
    );
    await page.getByRole('button', { name: 'Hide' }).click();
    assert.equal(await page.getByText('s3cr3t-from-the-console').count(), 0);
    await page.goto(`${server.facts.url}/ui/vaults/dev/secrets`);
    await screenshot(page, 'secrets');
    await profile.close();
  });

  it('shows HTML in names, tags and content types as text, and its CSP blocks an injected inline script', async () => {
    const set = await bearerRequest(
      `${server.facts.vaultUrl}/secrets/html-test?api-version=7.6`,
      token,
      'PUT',
      {
        value: 'x',
        contentType: '<script>window.__pwned = 1</script>',
        tags: { note: '<img src=x onerror="window.__pwned = 2">' },
      },
    );
    assert.equal(set.status, 200, set.text);
    const profile = await newProfile(browser);
    const page = await profile.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await signIn(page, server.facts.url, 'alice@coffer.test', PASSWORD);
    await page.goto(`${server.facts.url}/ui/vaults/dev/secrets`);
    await page.getByText('<script>window.__pwned = 1</script>').waitFor();
    await page.getByText('note=<img src=x onerror="window.__pwned = 2">').waitFor();
    assert.equal(await page.evaluate('window.__pwned'), undefined);

    // An inline script injected into the live page (as an XSS would): the CSP refuses to run it.
    const violated = await page.evaluate(`new Promise((resolve) => {
      document.addEventListener('securitypolicyviolation', (event) => resolve(event.violatedDirective));
      const script = document.createElement('script');
      script.textContent = 'window.__pwned = 3';
      document.body.append(script);
    })`);
    assert.match(String(violated), /^script-src/);
    assert.equal(await page.evaluate('window.__pwned'), undefined);
    assert.deepEqual(dialogs, []);
    await profile.close();
  });

  it('creates and rotates a key, sets its rotation policy, and signs a digest node:crypto verifies', async () => {
    const profile = await newProfile(browser);
    const page = await profile.newPage();
    await signIn(page, server.facts.url, 'alice@coffer.test', PASSWORD);
    await page.goto(`${server.facts.url}/ui/vaults/dev/keys`);
    await page.getByLabel('Name', { exact: true }).fill('signing');
    await page.getByLabel('Type').selectOption('RSA-2048');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByText('Key signing created.').waitFor();
    const versionRows = page.locator('h2:has-text("Versions") + table tbody tr');
    assert.equal(await versionRows.count(), 1);

    await page.getByRole('button', { name: 'Rotate now' }).click();
    await page.getByText(/Key signing rotated: new version [0-9a-f]{32}\./).waitFor();
    assert.equal(await versionRows.count(), 2, 'rotation made a second version');

    await page.getByLabel(/Rotate after/).fill('P90D');
    await page.getByLabel(/Versions expire after/).fill('P1Y');
    await page.getByRole('button', { name: 'Save rotation policy' }).click();
    await page.getByText('Rotation policy saved.').waitFor();
    await page.getByRole('cell', { name: 'P90D after creation' }).waitFor();

    await page.getByLabel('Text to hash and sign').fill('console test digest');
    await page.getByRole('button', { name: 'Sign and verify' }).click();
    assert.equal(await page.locator('#verified').textContent(), 'valid');
    await screenshot(page, 'key');
    const signature = Buffer.from((await page.locator('#signature').textContent()) ?? '', 'base64url');
    const key = await bearerRequest(`${server.facts.vaultUrl}/keys/signing?api-version=7.6`, token, 'GET');
    const publicKey = createPublicKey({ key: (key.json() as { key: JsonWebKey }).key, format: 'jwk' });
    assert.ok(
      verify('sha256', Buffer.from('console test digest'), publicKey, signature),
      'node:crypto agrees',
    );
    await profile.close();
  });

  it('issues a certificate through a CSR: download it, sign it with an openssl CA, upload the merge', async () => {
    const profile = await newProfile(browser);
    const page = await profile.newPage();
    await signIn(page, server.facts.url, 'alice@coffer.test', PASSWORD);
    await page.goto(`${server.facts.url}/ui/vaults/dev/certificates`);
    await page.getByLabel('Name', { exact: true }).fill('web');
    await page.getByRole('button', { name: 'Issue certificate' }).click();
    await page.getByText('Certificate web issued.').waitFor();

    await page.goto(`${server.facts.url}/ui/vaults/dev/certificates`);
    await page.getByLabel('Name', { exact: true }).fill('external');
    await page.getByLabel('Subject').fill('CN=external.example');
    await page.getByLabel('Issuer').selectOption('Unknown');
    await page.getByRole('button', { name: 'Issue certificate' }).click();
    await page.getByText('Certificate external is pending: download its CSR below.').waitFor();

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: /Download the CSR/ }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'external.csr');
    const csrPem = readFileSync((await download.path())!, 'utf8');
    const csrDer = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const openssl = new Openssl();
    const ca = openssl.ca('console-ca', '/CN=Console Test CA');
    const signed = openssl.signRequest('external', csrDer, ca);
    const upload = openssl.path(openssl.write('external-signed.pem', pemBlock('CERTIFICATE', signed.raw)));

    await page.getByLabel('Signed certificate file (PEM)').setInputFiles(upload);
    await page.waitForFunction("document.getElementById('merge-pem').value.includes('BEGIN CERTIFICATE')");
    await page.getByRole('button', { name: 'Merge' }).click();
    await page.getByText('Certificate external merged and issued.').waitFor();
    const cer = await bearerRequest(
      `${server.facts.vaultUrl}/certificates/external?api-version=7.6`,
      token,
      'GET',
    );
    assert.equal(
      (cer.json() as { x5t: string }).x5t,
      Buffer.from(signed.fingerprint.replace(/:/g, ''), 'hex').toString('base64url'),
    );

    await page.goto(`${server.facts.url}/ui/vaults/dev/certificates`);
    assert.equal(await page.locator('svg.expiry rect').count(), 2, 'one bar per certificate');
    await screenshot(page, 'certificates');
    await profile.close();
  });

  it('a user without rights sees a clear refusal, not data', async () => {
    const profile = await newProfile(browser);
    const page = await profile.newPage();
    await signIn(page, server.facts.url, 'bob@coffer.test', PASSWORD);
    await page.getByRole('alert').getByText('You are not allowed to list vaults.').waitFor();
    await page.goto(`${server.facts.url}/ui/vaults/dev/secrets`);
    await page.getByRole('alert').getByText('You are not allowed to list the secrets of dev.').waitFor();
    assert.equal(await page.getByText('db-password').count(), 0);
    await screenshot(page, 'refusal');
    await profile.close();
  });

  it('role assignments: alice grants bob Key Vault Secrets User on dev, and bob then reads secrets but still cannot write', async () => {
    const profile = await newProfile(browser);
    const page = await profile.newPage();
    await signIn(page, server.facts.url, 'alice@coffer.test', PASSWORD);
    await page.goto(`${server.facts.url}/ui/vaults/dev/access`);
    await page.getByLabel('Role').fill('Key Vault Secrets User');
    await page.getByLabel(/^Principal/).fill('bob@coffer.test');
    await page.getByRole('button', { name: 'Assign role' }).click();
    await page.getByText('Key Vault Secrets User assigned to bob@coffer.test at /vaults/dev.').waitFor();
    await page.getByRole('cell', { name: 'Key Vault Secrets User' }).waitFor();
    await screenshot(page, 'access');

    const bob = await (await newProfile(browser)).newPage();
    await signIn(bob, server.facts.url, 'bob@coffer.test', PASSWORD);
    await bob.goto(`${server.facts.url}/ui/vaults/dev/secrets`);
    await bob.getByRole('link', { name: 'db-password' }).waitFor();
    await bob.getByLabel('Name', { exact: true }).fill('bobs-secret');
    await bob.getByLabel('Value', { exact: true }).fill('nope');
    await bob.getByRole('button', { name: 'Set secret' }).click();
    await bob.getByRole('alert').getByText('You are not allowed to set secret bobs-secret.').waitFor();
    assert.equal(
      (await bearerRequest(`${server.facts.vaultUrl}/secrets/bobs-secret?api-version=7.6`, token, 'GET'))
        .status,
      404,
    );
    await profile.close();
  });

  it('deleted objects: recover a deleted secret, then purge it after a second delete', async () => {
    assert.equal(
      (await bearerRequest(`${server.facts.vaultUrl}/secrets/html-test?api-version=7.6`, token, 'DELETE'))
        .status,
      200,
    );
    const profile = await newProfile(browser);
    const page = await profile.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    await signIn(page, server.facts.url, 'alice@coffer.test', PASSWORD);
    await page.goto(`${server.facts.url}/ui/vaults/dev/deleted`);
    await screenshot(page, 'deleted');
    await page
      .getByRole('row', { name: /html-test/ })
      .getByRole('button', { name: 'Recover' })
      .click();
    await page.getByText('html-test recovered.').waitFor();
    assert.equal(
      (await bearerRequest(`${server.facts.vaultUrl}/secrets/html-test?api-version=7.6`, token, 'GET'))
        .status,
      200,
    );

    await page.goto(`${server.facts.url}/ui/vaults/dev/secrets/html-test`);
    await page.getByRole('button', { name: 'Delete secret' }).click();
    await page.goto(`${server.facts.url}/ui/vaults/dev/deleted`);
    await page
      .getByRole('row', { name: /html-test/ })
      .getByRole('button', { name: 'Purge' })
      .click();
    await page.getByText('html-test purged.').waitFor();
    const deleted = await bearerRequest(
      `${server.facts.vaultUrl}/deletedsecrets/html-test?api-version=7.6`,
      token,
      'GET',
    );
    assert.equal(deleted.status, 404);
    await profile.close();
  });

  it('the audit viewer finds the reveal by object, caller and result; seal status shows unsealed', async () => {
    const profile = await newProfile(browser);
    const page = await profile.newPage();
    await signIn(page, server.facts.url, 'alice@coffer.test', PASSWORD);
    await page.goto(`${server.facts.url}/ui/audit`);
    await page.getByLabel('Object').fill('db-password');
    await page.getByLabel('Caller').fill('alice@coffer.test');
    await page.getByLabel('Result').fill('Success');
    await page.getByLabel('Operation').fill('SecretGet');
    await page.getByRole('button', { name: 'Search' }).click();
    const rows = page.locator('tbody tr', { hasText: 'SecretGet' });
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1, 'one reveal, one read');
    assert.match((await rows.first().textContent()) ?? '', /alice@coffer\.test/);
    await screenshot(page, 'audit');
    await page.goto(`${server.facts.url}/ui/seal`);
    await page.getByText('Unsealed').waitFor();
    await screenshot(page, 'seal');
    await profile.close();
  });

  /** Audit records of one operation on one object, through the admin API's audit query. */
  async function auditCount(operation: string, object: string): Promise<number> {
    const response = await admin(
      'GET',
      `/coffer/audit/records?operation=${operation}&object=${object}&limit=1000`,
    );
    assert.equal(response.status, 200, response.text);
    return (response.json() as { value: unknown[] }).value.length;
  }
});
