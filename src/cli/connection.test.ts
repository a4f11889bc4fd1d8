import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveConnection } from './connection.js';
import { CliError } from './errors.js';

const scratch = mkdtempSync(join(tmpdir(), 'coffer-cli-connection-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
/** A fresh folder holding `dev/dev.json` with the given fields; returns the folder. */
function folderWithDevJson(fields: Record<string, string>, devDir = 'dev'): string {
  const folder = join(scratch, `case-${++counter}`);
  mkdirSync(join(folder, devDir), { recursive: true });
  writeFileSync(join(folder, devDir, 'dev.json'), JSON.stringify(fields));
  return folder;
}

const DEV = {
  url: 'https://localhost:9443',
  tenantId: 'dev-tenant',
  clientId: 'dev-client',
  clientSecret: 'dev-secret',
  caFile: '/dev/ca.pem',
  baseDomain: 'dev.example',
  authorityHost: 'https://login.localhost:9443',
};

describe('resolveConnection', () => {
  it('takes every field from the flags over the environment and dev.json', () => {
    const folder = folderWithDevJson(DEV);
    const connection = resolveConnection(
      {
        url: 'https://flag.example:1',
        tenantId: 'flag-tenant',
        clientId: 'flag-client',
        clientSecret: 'flag-secret',
        caFile: '/flag/ca.pem',
        baseDomain: 'flag.example',
        devDataDir: 'dev',
      },
      {
        COFFER_URL: 'https://env.example:2',
        COFFER_TENANT_ID: 'env-tenant',
        COFFER_CLIENT_ID: 'env-client',
        COFFER_CLIENT_SECRET: 'env-secret',
        COFFER_CA_FILE: '/env/ca.pem',
        COFFER_BASE_DOMAIN: 'env.example',
      },
      folder,
    );
    assert.deepEqual(
      { ...connection, devFile: undefined },
      {
        url: 'https://flag.example:1',
        authorityHost: 'https://flag.example:1',
        tenantId: 'flag-tenant',
        clientId: 'flag-client',
        clientSecret: 'flag-secret',
        caFile: '/flag/ca.pem',
        baseDomain: 'flag.example',
        devFile: undefined,
      },
    );
  });

  it('takes the environment over dev.json, field by field', () => {
    const folder = folderWithDevJson(DEV);
    const connection = resolveConnection(
      { devDataDir: 'dev', clientId: 'flag-client' },
      {
        COFFER_CLIENT_ID: 'env-client',
        COFFER_CLIENT_SECRET: 'env-secret',
        COFFER_BASE_DOMAIN: 'env.example',
      },
      folder,
    );
    assert.equal(connection.clientId, 'flag-client');
    assert.equal(connection.clientSecret, 'env-secret');
    assert.equal(connection.baseDomain, 'env.example');
    assert.equal(connection.tenantId, 'dev-tenant');
    assert.equal(connection.url, 'https://localhost:9443');
    assert.equal(connection.caFile, '/dev/ca.pem');
  });

  it('reads everything from --dev-data-dir, including its authority host', () => {
    const folder = folderWithDevJson(DEV);
    const connection = resolveConnection({ devDataDir: join(folder, 'dev') }, {}, '/');
    assert.deepEqual(connection, { ...DEV, devFile: join(folder, 'dev', 'dev.json') });
  });

  it('uses the server URL for tokens when the URL does not come from dev.json', () => {
    const folder = folderWithDevJson(DEV);
    const connection = resolveConnection(
      { devDataDir: 'dev' },
      { COFFER_URL: 'https://env.example:2/' },
      folder,
    );
    assert.equal(connection.url, 'https://env.example:2');
    assert.equal(connection.authorityHost, 'https://env.example:2');
  });

  it('falls back to ./.coffer-dev/dev.json when nothing is given', () => {
    const folder = folderWithDevJson(DEV, '.coffer-dev');
    const connection = resolveConnection({}, {}, folder);
    assert.equal(connection.clientSecret, 'dev-secret');
    assert.equal(connection.devFile, join(folder, '.coffer-dev', 'dev.json'));
  });

  it('ignores ./.coffer-dev/dev.json once a server or credential is given', () => {
    const folder = folderWithDevJson(DEV, '.coffer-dev');
    const connection = resolveConnection({}, { COFFER_URL: 'https://prod.example' }, folder);
    assert.equal(connection.url, 'https://prod.example');
    assert.equal(connection.clientSecret, undefined);
    assert.equal(connection.devFile, undefined);
  });

  it('defaults to the local dev server address and base domain', () => {
    const connection = resolveConnection({}, {}, scratch);
    assert.deepEqual(connection, {
      url: 'https://localhost:8443',
      authorityHost: 'https://localhost:8443',
      baseDomain: 'vault.localhost',
    });
  });

  it('treats empty values as not given', () => {
    const folder = folderWithDevJson(DEV);
    const connection = resolveConnection(
      { devDataDir: 'dev', tenantId: '' },
      { COFFER_TENANT_ID: '' },
      folder,
    );
    assert.equal(connection.tenantId, 'dev-tenant');
  });

  it('resolves a relative caFile in dev.json against its own folder', () => {
    const folder = folderWithDevJson({ ...DEV, caFile: 'tls/ca.pem' });
    const connection = resolveConnection({ devDataDir: 'dev' }, {}, folder);
    assert.equal(connection.caFile, join(folder, 'dev', 'tls', 'ca.pem'));
  });

  it('says how to create a missing dev.json', () => {
    assert.throws(
      () => resolveConnection({ devDataDir: 'nowhere' }, {}, scratch),
      (error: unknown) =>
        error instanceof CliError &&
        error.message.includes(join(scratch, 'nowhere', 'dev.json')) &&
        error.message.includes('coffer server --dev'),
    );
  });

  it('rejects a dev.json that is not JSON', () => {
    const folder = join(scratch, 'broken');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'dev.json'), '{not json');
    assert.throws(() => resolveConnection({ devDataDir: folder }, {}, scratch), /not valid JSON/);
  });

  it('rejects URLs that are not https', () => {
    assert.throws(() => resolveConnection({ url: 'http://localhost:8443' }, {}, scratch), /not an https URL/);
    assert.throws(() => resolveConnection({}, { COFFER_URL: 'localhost' }, scratch), /is not a URL/);
  });
});

describe('resolveConnection with a saved profile', () => {
  const PROFILE = {
    url: 'https://coffer.example:8443',
    authorityHost: 'https://coffer.example:8443',
    baseDomain: 'vault.example',
    tenantId: 'profile-tenant',
    clientId: 'profile-client',
    clientSecret: 'profile-secret',
  };
  /** A config folder holding profile.json, as `coffer login` leaves it. */
  function configWith(profile: object): Record<string, string> {
    const folder = join(scratch, `config-${++counter}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'profile.json'), JSON.stringify(profile));
    return { COFFER_CONFIG_DIR: folder };
  }

  it('takes everything from the profile when nothing else is given, before ./.coffer-dev', () => {
    const folder = folderWithDevJson(DEV, '.coffer-dev');
    const connection = resolveConnection({}, configWith(PROFILE), folder);
    assert.equal(connection.url, PROFILE.url);
    assert.equal(connection.clientSecret, 'profile-secret');
    assert.equal(connection.baseDomain, 'vault.example');
  });

  it('lets flags and the environment override single fields', () => {
    const env = { ...configWith(PROFILE), COFFER_CLIENT_ID: 'env-client' };
    const connection = resolveConnection({ tenantId: 'flag-tenant' }, env, scratch);
    assert.equal(connection.clientId, 'env-client');
    assert.equal(connection.tenantId, 'flag-tenant');
    assert.equal(connection.clientSecret, 'profile-secret');
  });

  it('never sends the profile secret to a server named some other way', () => {
    const connection = resolveConnection({ url: 'https://other.example' }, configWith(PROFILE), scratch);
    assert.equal(connection.clientSecret, undefined);
    assert.equal(connection.tenantId, undefined);
    // The same server spelled with a trailing slash is still the profile's.
    const same = resolveConnection({ url: 'https://coffer.example:8443/' }, configWith(PROFILE), scratch);
    assert.equal(same.clientSecret, 'profile-secret');
  });

  it('an explicit --dev-data-dir wins over the profile, whole', () => {
    const folder = folderWithDevJson(DEV);
    const connection = resolveConnection({ devDataDir: 'dev' }, configWith(PROFILE), folder);
    assert.equal(connection.url, DEV.url);
    assert.equal(connection.clientSecret, DEV.clientSecret);
  });

  it("uses a user's cached token only for that user, and is ignored for login", () => {
    const token = { accessToken: 'cached', expiresOn: '2999-01-01T00:00:00Z' };
    const env = configWith({
      ...PROFILE,
      clientId: undefined,
      clientSecret: undefined,
      username: 'a@example',
      token,
    });
    assert.deepEqual(resolveConnection({}, env, scratch).cachedToken, token);
    assert.equal(resolveConnection({ username: 'b@example' }, env, scratch).cachedToken, undefined);
    assert.equal(resolveConnection({}, env, scratch, { ignoreProfile: true }).tenantId, undefined);
  });

  it('says how to recover from a damaged profile', () => {
    const folder = join(scratch, 'config-broken');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'profile.json'), '{');
    assert.throws(
      () => resolveConnection({}, { COFFER_CONFIG_DIR: folder }, scratch),
      /coffer logout.*coffer login/,
    );
  });
});
