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
});
