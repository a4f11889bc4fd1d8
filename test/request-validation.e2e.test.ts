import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CertificateClient } from '@azure/keyvault-certificates';
import { KeyClient } from '@azure/keyvault-keys';
import type { SecretClient } from '@azure/keyvault-secrets';
import { fetchToken, rawRequest } from './helpers/http.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// Issue 11, smaller items: control characters in tags and contentType were stored as given, and
// unknown fields (a snake_case `ip_addresses` for `ipAddresses`, `keyOps` for `key_ops`) were
// silently dropped, so a certificate or key came out unlike what was asked. Both are 400 now,
// naming what to fix, and change nothing.

/** C0 controls (tab and newline included), DEL and C1 controls. */
const CONTROLS = ['\u0000', '\u0009', '\u000a', '\u001b', '\u001f', '\u007f', '\u0080', '\u009b', '\u009f'];
const poll = { intervalInMs: 20 };

interface SdkError {
  statusCode?: number;
  code?: string;
  message?: string;
}

describe('request validation: control characters and unknown fields', () => {
  let server: DevServer;
  let secrets: SecretClient;
  let keys: KeyClient;
  let certificates: CertificateClient;
  let token: string;

  const rejects400 = async (label: string, promise: Promise<unknown>, mention: RegExp) => {
    await assert.rejects(promise, (error: SdkError) => {
      assert.equal(error.statusCode, 400, `${label}: ${String(error)}`);
      assert.equal(error.code, 'BadParameter', label);
      assert.match(error.message ?? '', mention, label);
      return true;
    });
  };
  const raw = (method: string, path: string, body: unknown) =>
    rawRequest(`${server.facts.vaultUrl}${path}?api-version=7.6`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  /** A raw 400 BadParameter whose message names `field`. */
  const refusesField = async (method: string, path: string, body: unknown, field: string) => {
    const response = await raw(method, path, body);
    assert.equal(response.status, 400, `${path} with ${field}: ${response.text}`);
    const { error } = response.json() as { error: { code: string; message: string } };
    assert.equal(error.code, 'BadParameter');
    assert.ok(error.message.includes(`'${field}'`), `the message names ${field}: ${error.message}`);
  };

  before(async () => {
    server = await startDevServer();
    const { facts } = server;
    secrets = server.secrets();
    keys = new KeyClient(facts.vaultUrl, server.credential);
    certificates = new CertificateClient(facts.vaultUrl, server.credential);
    token = await fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
    await secrets.setSecret('existing', 'value');
    await keys.createEcKey('existing-key');
    await (
      await certificates.beginCreateCertificate(
        'existing-cert',
        { issuerName: 'Self', subject: 'CN=x' },
        poll,
      )
    ).pollUntilDone();
  });
  after(async () => {
    assert.equal(await server?.stop(), 0);
  });

  it('refuses control characters in tag names and values on secrets, keys and certificates', async () => {
    const mention = /control character/;
    for (const control of CONTROLS) {
      const code = control.charCodeAt(0).toString(16);
      for (const tags of [{ [`team${control}`]: 'payments' }, { team: `pay${control}ments` }]) {
        await rejects400(`secret ${code}`, secrets.setSecret(`tagged-${code}`, 'v', { tags }), mention);
        await rejects400(
          `secret update ${code}`,
          secrets.updateSecretProperties('existing', '', { tags }),
          mention,
        );
        await rejects400(`key ${code}`, keys.createEcKey(`tagged-${code}`, { tags }), mention);
        await rejects400(`key update ${code}`, keys.updateKeyProperties('existing-key', { tags }), mention);
        await rejects400(
          `certificate ${code}`,
          certificates.beginCreateCertificate(
            `tagged-${code}`,
            { issuerName: 'Self', subject: 'CN=t' },
            { tags },
          ),
          mention,
        );
        await rejects400(
          `certificate update ${code}`,
          certificates.updateCertificateProperties('existing-cert', '', { tags }),
          mention,
        );
      }
    }
    // Nothing was created or changed by the refused requests.
    const listed: string[] = [];
    for await (const properties of secrets.listPropertiesOfSecrets()) listed.push(properties.name);
    assert.ok(!listed.some((name) => name.startsWith('tagged-')), listed.join(', '));
    assert.deepEqual((await secrets.getSecret('existing')).properties.tags ?? {}, {});
    await assert.rejects(keys.getKey(`tagged-0`), { statusCode: 404 });
  });

  it('refuses control characters in contentType', async () => {
    for (const control of CONTROLS) {
      const contentType = `text/plain${control}`;
      await rejects400('secret', secrets.setSecret('typed', 'v', { contentType }), /contentType/);
      await rejects400(
        'secret update',
        secrets.updateSecretProperties('existing', '', { contentType }),
        /contentType/,
      );
      const response = await raw('POST', '/certificates/typed/create', {
        policy: { x509_props: { subject: 'CN=t' }, issuer: { name: 'Self' }, secret_props: { contentType } },
      });
      assert.equal(response.status, 400, response.text);
    }
    assert.equal((await secrets.getSecret('existing')).properties.contentType, undefined);
  });

  it('refuses unknown fields in certificate policies, naming them, instead of dropping them', async () => {
    const policy = (extra: Record<string, unknown>, x509: Record<string, unknown> = {}) => ({
      policy: { issuer: { name: 'Self' }, x509_props: { subject: 'CN=sans', ...x509 }, ...extra },
    });
    const misnamed: Array<[body: unknown, field: string]> = [
      // Azure's wire name is camelCase `ipAddresses`; snake_case would silently lose the IP SANs.
      [policy({}, { sans: { dns_names: ['a.example'], ip_addresses: ['192.0.2.1'] } }), 'ip_addresses'],
      [policy({}, { validityInMonths: 1 }), 'validityInMonths'],
      [policy({ key_properties: { exportable: false } }), 'key_properties'],
      [
        policy({
          lifetime_actions: [{ trigger: { lifetime_percent: 80 }, action: { action_type: 'AutoRenew' } }],
        }),
        'lifetime_percent',
      ],
    ];
    for (const [body, field] of misnamed)
      await refusesField('POST', '/certificates/sans/create', body, field);
    await refusesField(
      'PATCH',
      '/certificates/existing-cert/policy',
      { key_props: { exportible: false } },
      'exportible',
    );
    await assert.rejects(certificates.getCertificate('sans'), { statusCode: 404 }, 'nothing was created');
    // The right names work, read-only fields a client echoes back included.
    const created = await raw('POST', '/certificates/sans/create', {
      policy: {
        id: 'ignored',
        issuer: { name: 'Self' },
        x509_props: { subject: 'CN=sans', sans: { ipAddresses: ['192.0.2.1'] } },
        attributes: { enabled: true, created: 1, updated: 1 },
      },
    });
    assert.ok(created.status < 300, created.text);
  });

  it('refuses unknown fields in key, rotation policy and secret bodies, naming them', async () => {
    // `keyOps` for `key_ops` would give the key every operation instead of the few asked for.
    await refusesField('POST', '/keys/ops/create', { kty: 'EC', keyOps: ['verify'] }, 'keyOps');
    await refusesField('POST', '/keys/ops/create', { kty: 'EC', attributes: { expires: 1 } }, 'expires');
    await refusesField(
      'PATCH',
      '/keys/existing-key',
      { release_policy: { content_type: 'x' } },
      'content_type',
    );
    await refusesField(
      'PUT',
      '/keys/existing-key/rotationpolicy',
      { lifetime_actions: [] },
      'lifetime_actions',
    );
    await refusesField(
      'PUT',
      '/keys/existing-key/rotationpolicy',
      { lifetimeActions: [{ trigger: { timeAfterCreate: 'P30D' }, action: { type: 'Rotate', kind: 'x' } }] },
      'kind',
    );
    await refusesField('PUT', '/secrets/typed', { value: 'v', content_type: 'text/plain' }, 'content_type');
    await refusesField('PUT', '/secrets/typed', { value: 'v', attributes: { expiry: 1 } }, 'expiry');
    await refusesField('PATCH', '/secrets/existing', { tag: { a: 'b' } }, 'tag');
    await assert.rejects(keys.getKey('ops'), { statusCode: 404 }, 'nothing was created');
    await assert.rejects(secrets.getSecret('typed'), { statusCode: 404 });
    // Read-only attributes a client may echo back are accepted, as Azure does.
    const response = await raw('PUT', '/secrets/typed', {
      value: 'v',
      attributes: { enabled: true, created: 1, updated: 1, recoverableDays: 7, recoveryLevel: 'Purgeable' },
    });
    assert.equal(response.status, 200, response.text);
  });

  // Found by the fuzz suite (test/fuzz): an extra field nested 20,000 deep in a contact was kept,
  // and storing it overflowed the stack (500); a plain unknown field was stored silently.
  it('refuses unknown fields in certificate contacts, however deep, and keeps the contacts', async () => {
    const contacts = [{ email: 'ops@coffer.test', name: 'Ops' }];
    assert.equal((await raw('PUT', '/certificates/contacts', { contacts })).status, 200);
    await refusesField(
      'PUT',
      '/certificates/contacts',
      { contacts: [{ email: 'a@coffer.test', mail: 'x' }] },
      'mail',
    );
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const response = await rawRequest(`${server.facts.vaultUrl}/certificates/contacts?api-version=7.6`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: `{"contacts":[{"email":"a@coffer.test","notes":${deep}}]}`,
    });
    assert.equal(response.status, 400, response.text.slice(0, 300));
    assert.equal((response.json() as { error: { code: string } }).error.code, 'BadParameter');
    const kept = await raw('GET', '/certificates/contacts', undefined);
    assert.deepEqual((kept.json() as { contacts: unknown }).contacts, contacts);
  });

  // Found by the fuzz suite (test/fuzz): an action that is not a string was turned into text for
  // the error message; an object with its own `toString` made that throw (500), and so did a list
  // nested 20,000 deep (it exhausted the stack).
  it('refuses custom role actions that are not names, whatever their shape', async () => {
    const bodies: Array<[string, string, string]> = [
      [
        'POST',
        `${server.facts.url}/coffer/roles/definitions`,
        '{"name":"r1","dataActions":[{"toString":1}]}',
      ],
      ['POST', `${server.facts.url}/coffer/roles/definitions`, '{"name":"r2","actions":[["a"]]}'],
      [
        'PUT',
        `${server.facts.vaultUrl}/providers/Microsoft.Authorization/roleDefinitions/${crypto.randomUUID()}?api-version=7.6`,
        '{"properties":{"roleName":"r3","permissions":[{"dataActions":[{"valueOf":{},"toString":[]}]}]}}',
      ],
    ];
    for (const [method, url, body] of bodies) {
      const response = await rawRequest(url, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      assert.equal(response.status, 400, `${method} ${url}: ${response.text.slice(0, 300)}`);
      const { error } = response.json() as { error: { code: string; message: string } };
      assert.equal(error.code, 'BadParameter');
      assert.match(error.message, /holds (an object|a list), which is not an action name/);
    }
  });

  // Found by the fuzz suite (test/fuzz): bodies nested thousands deep reached code that walks
  // them recursively (two such 500s above); free-form members such as a JWK's were accepted.
  it('refuses a body nested more than 64 levels deep, on every plane, changing nothing', async () => {
    const deep = `${'['.repeat(5_000)}${']'.repeat(5_000)}`;
    const jwk = '"kty":"oct","k":"WfV7QTmYSF2hwG_BJX2yhBjS9RPEnKfPvjtDOB6dnmg"';
    const bodies: Array<[string, string, string]> = [
      ['PUT', `${server.facts.vaultUrl}/keys/deep?api-version=7.6`, `{"key":{${jwk},"x5c":${deep}}}`],
      ['POST', `${server.facts.url}/coffer/roles/definitions`, `{"name":"deep","actions":${deep}}`],
      ['PUT', `${server.facts.vaultUrl}/secrets/deep?api-version=7.6`, `{"value":"v","tags":${deep}}`],
    ];
    for (const [method, url, body] of bodies) {
      const response = await rawRequest(url, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      assert.equal(response.status, 400, `${method} ${url}: ${response.text.slice(0, 300)}`);
      assert.match(
        (response.json() as { error: { message: string } }).error.message,
        /nested more than 64 levels/,
      );
    }
    await assert.rejects(keys.getKey('deep'), { statusCode: 404 }, 'no key was imported');
  });

  // Found by the fuzz suite (test/fuzz): a parameter given twice arrives as a list where every route reads a
  // string; `$filter` twice on the role API was a 500.
  it('refuses a query parameter given twice, on every plane, naming it', async () => {
    const { facts } = server;
    const twice = [
      `${facts.vaultUrl}/providers/Microsoft.Authorization/roleAssignments?api-version=7.6&$filter=atScope()&$filter=atScope()`,
      `${facts.vaultUrl}/providers/Microsoft.Authorization/roleDefinitions?api-version=7.6&$filter=x&$filter=y`,
      `${facts.vaultUrl}/secrets/existing?api-version=7.6&outContentType=a&outContentType=b`,
      `${facts.url}/coffer/roles/assignments?scope=/&scope=/vaults/dev`,
      `${facts.url}/subscriptions/${facts.subscriptionId}/resources?api-version=2021-04-01&$filter=a&$filter=b`,
    ];
    for (const url of twice) {
      const armToken = url.includes('/subscriptions/')
        ? await fetchToken(
            facts.authorityHost,
            facts.tenantId,
            facts.clientId,
            facts.clientSecret,
            `${facts.url}/.default`,
          )
        : token;
      const response = await rawRequest(url, { headers: { authorization: `Bearer ${armToken}` } });
      assert.equal(response.status, 400, `${url}: ${response.text}`);
      const { error } = response.json() as { error: { code: string; message: string } };
      assert.match(error.message, /given more than once/, url);
      assert.ok(
        error.message.includes("'$filter'") ||
          error.message.includes("'outContentType'") ||
          error.message.includes("'scope'"),
        error.message,
      );
    }
  });
});
