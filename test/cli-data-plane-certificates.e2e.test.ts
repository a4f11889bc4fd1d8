import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Openssl } from './helpers/certificates.js';
import { assertOneLineFailure, assertSucceeded, cli, parseJson } from './helpers/cli-process.js';
import { type DevServer, scratchDir, startDevServer } from './helpers/server-process.js';

// `coffer certificate ...` against a real dev server; what it downloads is opened with
// node:crypto and the openssl CLI, and a pending CSR is signed by an openssl CA and merged.

interface CertificateJson {
  name: string;
  id: string;
  cer?: string;
  x509ThumbprintHex?: string;
  policy?: {
    x509CertificateProperties?: { subject?: string };
    issuerParameters?: { name?: string };
    keyProperties?: { keyType?: string };
  };
  attributes: { enabled: boolean; expires?: string };
  recoveryId?: string;
}

interface OperationJson {
  status: string;
  csr?: string;
  issuerParameters?: { name?: string };
}

describe('coffer certificate', () => {
  let server: DevServer;
  let dev: string[];
  let inVault: string[];
  let files: string;
  const openssl = new Openssl();
  let policyFile: string;

  before(async () => {
    server = await startDevServer();
    dev = ['--dev-data-dir', server.dataDir];
    inVault = ['--vault-name', 'dev', ...dev];
    files = scratchDir('cli-certificate-files');
  });
  after(async () => {
    await server?.stop('SIGTERM');
  });

  it("get-default-policy prints az's default; create --policy @file issues it and waits", async () => {
    const policy = parseJson<Record<string, { name?: string; subject?: string }>>(
      await cli(['certificate', 'get-default-policy']),
    );
    assert.equal(policy['issuerParameters']?.name, 'Self');
    policy['x509CertificateProperties'] = {
      ...policy['x509CertificateProperties'],
      subject: 'CN=cli.example.test',
    };
    policyFile = path.join(files, 'policy.json');
    writeFileSync(policyFile, JSON.stringify(policy));
    const created = parseJson<CertificateJson>(
      await cli([
        'certificate',
        'create',
        '-n',
        'web',
        '--policy',
        `@${policyFile}`,
        '--tags',
        'app=web',
        ...inVault,
        '-o',
        'json',
      ]),
    );
    assert.equal(created.name, 'web');
    assert.equal(
      created.policy?.x509CertificateProperties?.subject,
      'CN=cli.example.test',
      "the policy in az's names",
    );
    assert.equal(created.policy?.keyProperties?.keyType, 'RSA');
    const certificate = new X509Certificate(Buffer.from(created.cer ?? '', 'base64'));
    assert.equal(certificate.subject, 'CN=cli.example.test');
    assert.equal(certificate.fingerprint.replace(/:/g, ''), created.x509ThumbprintHex);
  });

  it('download writes PEM and DER (mode 0600) that node:crypto and openssl open; show and list agree', async () => {
    const pem = path.join(files, 'web.pem');
    const der = path.join(files, 'web.der');
    const [pemRun, derRun, shown, listed, versions] = await Promise.all([
      cli(['certificate', 'download', '-n', 'web', '--file', pem, ...inVault]),
      cli(['certificate', 'download', '-n', 'web', '--file', der, '--encoding', 'DER', ...inVault]),
      cli(['certificate', 'show', '-n', 'web', ...inVault, '--query', 'x509ThumbprintHex', '-o', 'tsv']),
      cli(['certificate', 'list', ...inVault]),
      cli(['certificate', 'list-versions', '-n', 'web', ...inVault, '--query', 'length(@)', '-o', 'tsv']),
    ]);
    assertSucceeded(pemRun);
    assertSucceeded(derRun);
    for (const file of [pem, der]) assert.equal(statSync(file).mode & 0o777, 0o600);
    const fromPem = new X509Certificate(readFileSync(pem));
    assert.deepEqual(new X509Certificate(readFileSync(der)).raw, fromPem.raw);
    assert.equal(shown.stdout.trim(), fromPem.fingerprint.replace(/:/g, ''));
    assert.match(openssl.run('x509', '-in', pem, '-noout', '-subject'), /CN ?= ?cli\.example\.test/);
    assert.match(
      openssl.run('x509', '-inform', 'DER', '-in', der, '-noout', '-subject'),
      /cli\.example\.test/,
    );
    assert.equal(versions.stdout, '1\n');
    assertSucceeded(listed);
    assert.match(listed.stdout, /^web +true/m);
    assertOneLineFailure(
      await cli(['certificate', 'download', '-n', 'web', '--file', pem, ...inVault]),
      /already exists.*--overwrite/,
    );
  });

  it('import a PEM certificate with its key; set-attributes; show as a table', async () => {
    openssl.run(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'imp.key',
      '-out',
      'imp.crt',
      '-days',
      '30',
      '-subj',
      '/CN=imported.example.test',
    );
    const bundle = path.join(files, 'imported.pem');
    writeFileSync(bundle, Buffer.concat([openssl.read('imp.key'), openssl.read('imp.crt')]));
    const imported = parseJson<CertificateJson>(
      await cli(['certificate', 'import', '-n', 'imported', '--file', bundle, ...inVault, '-o', 'json']),
    );
    assert.equal(
      imported.x509ThumbprintHex,
      new X509Certificate(openssl.read('imp.crt')).fingerprint.replace(/:/g, ''),
    );

    const disabled = parseJson<CertificateJson>(
      await cli([
        'certificate',
        'set-attributes',
        '-n',
        'imported',
        '--enabled',
        'false',
        ...inVault,
        '-o',
        'json',
      ]),
    );
    assert.equal(disabled.attributes.enabled, false);
    const table = await cli(['certificate', 'show', '-n', 'imported', ...inVault]);
    assertSucceeded(table);
    assert.match(table.stdout, /^Subject +CN=imported\.example\.test$/m);
    assert.match(table.stdout, /^Enabled +false$/m);
  });

  it('pending: an Unknown-issuer certificate waits; its CSR, signed by an openssl CA, merges', async () => {
    const policy = JSON.parse(readFileSync(policyFile, 'utf8')) as Record<string, unknown>;
    policy['issuerParameters'] = { name: 'Unknown' };
    policy['lifetimeActions'] = [
      { action: { actionType: 'EmailContacts' }, trigger: { daysBeforeExpiry: 30 } },
    ];
    const pending = parseJson<OperationJson>(
      await cli([
        'certificate',
        'create',
        '-n',
        'external',
        '--policy',
        JSON.stringify(policy),
        ...inVault,
        '-o',
        'json',
      ]),
    );
    assert.equal(pending.status, 'inProgress');
    assert.equal(pending.issuerParameters?.name, 'Unknown');
    const [csr, included, excluded] = await Promise.all([
      cli(['certificate', 'pending', 'show', '-n', 'external', ...inVault, '--query', 'csr', '-o', 'tsv']),
      cli(['certificate', 'list', '--include-pending', ...inVault, '--query', '[].name', '-o', 'json']),
      cli(['certificate', 'list', ...inVault, '--query', '[].name', '-o', 'json']),
    ]);
    assert.ok(parseJson<string[]>(included).includes('external'));
    assert.ok(!parseJson<string[]>(excluded).includes('external'));
    const ca = openssl.ca('cli-ca', '/CN=CLI Test CA');
    const signed = openssl.signRequest('external', Buffer.from(csr.stdout.trim(), 'base64'), ca);
    const chain = path.join(files, 'signed.pem');
    writeFileSync(chain, signed.toString() + ca.certificate.toString());
    const merged = parseJson<CertificateJson>(
      await cli([
        'certificate',
        'pending',
        'merge',
        '-n',
        'external',
        '--file',
        chain,
        ...inVault,
        '-o',
        'json',
      ]),
    );
    assert.equal(merged.x509ThumbprintHex, signed.fingerprint.replace(/:/g, ''));
    const after = await cli([
      'certificate',
      'pending',
      'show',
      '-n',
      'external',
      ...inVault,
      '--query',
      'status',
      '-o',
      'tsv',
    ]);
    assert.equal(after.stdout, 'completed\n');

    const notCertificate = path.join(files, 'not-a-cert.pem');
    writeFileSync(notCertificate, 'hello');
    assertOneLineFailure(
      await cli(['certificate', 'pending', 'merge', '-n', 'external', '--file', notCertificate, ...inVault]),
      /not-a-cert\.pem holds no X\.509 certificate/,
    );
  });

  it('pending delete abandons a certificate waiting for a merge', async () => {
    const policy = JSON.parse(readFileSync(policyFile, 'utf8')) as Record<string, unknown>;
    policy['issuerParameters'] = { name: 'Unknown' };
    policy['lifetimeActions'] = [];
    assertSucceeded(
      await cli([
        'certificate',
        'create',
        '-n',
        'abandoned',
        '--policy',
        JSON.stringify(policy),
        ...inVault,
        '-o',
        'none',
      ]),
    );
    const deleted = parseJson<OperationJson>(
      await cli(['certificate', 'pending', 'delete', '-n', 'abandoned', ...inVault, '-o', 'json']),
    );
    assert.equal(deleted.issuerParameters?.name, 'Unknown');
    assertOneLineFailure(
      await cli(['certificate', 'pending', 'show', '-n', 'abandoned', ...inVault]),
      /NotFound/,
    );
  });

  it('contacts and issuers', async () => {
    parseJson(
      await cli([
        'certificate',
        'contact',
        'add',
        '--email',
        'ops@example.test',
        '--name',
        'Ops',
        ...inVault,
        '-o',
        'json',
      ]),
    );
    const added = parseJson<{ contactList: { email: string }[] }>(
      await cli(['certificate', 'contact', 'add', '--email', 'sec@example.test', ...inVault, '-o', 'json']),
    );
    assert.deepEqual(
      added.contactList.map((contact) => contact.email),
      ['ops@example.test', 'sec@example.test'],
    );
    const listedContacts = await cli(['certificate', 'contact', 'list', ...inVault]);
    assertSucceeded(listedContacts);
    assert.match(listedContacts.stdout, /^ops@example\.test +Ops$/m);
    const removed = parseJson<{ contactList: { email: string }[] }>(
      await cli([
        'certificate',
        'contact',
        'delete',
        '--email',
        'ops@example.test',
        ...inVault,
        '-o',
        'json',
      ]),
    );
    assert.deepEqual(
      removed.contactList.map((contact) => contact.email),
      ['sec@example.test'],
    );
    assertOneLineFailure(
      await cli(['certificate', 'contact', 'delete', '--email', 'nobody@example.test', ...inVault]),
      /no contact 'nobody@example\.test'.*contact list/,
    );

    const issuer = parseJson<{ name: string; provider: string }>(
      await cli([
        'certificate',
        'issuer',
        'create',
        '--issuer-name',
        'digicert',
        '--provider-name',
        'DigiCert',
        '--account-id',
        'acct-1',
        ...inVault,
        '-o',
        'json',
      ]),
    );
    assert.deepEqual([issuer.name, issuer.provider], ['digicert', 'DigiCert']);
    const updated = parseJson<{ attributes: { enabled: boolean } }>(
      await cli([
        'certificate',
        'issuer',
        'update',
        '--issuer-name',
        'digicert',
        '--enabled',
        'false',
        ...inVault,
        '-o',
        'json',
      ]),
    );
    assert.equal(updated.attributes.enabled, false);
    const listed = await cli([
      'certificate',
      'issuer',
      'list',
      ...inVault,
      '--query',
      '[].name',
      '-o',
      'tsv',
    ]);
    assert.equal(listed.stdout, 'digicert\n');
    assertSucceeded(
      await cli(['certificate', 'issuer', 'delete', '--issuer-name', 'digicert', ...inVault, '-o', 'none']),
    );
    assertOneLineFailure(
      await cli(['certificate', 'issuer', 'show', '--issuer-name', 'digicert', ...inVault]),
      /NotFound/,
    );
  });

  it('delete, recover, backup and restore', async () => {
    const file = path.join(files, 'web.kvbackup');
    assertSucceeded(
      await cli(['certificate', 'backup', '-n', 'web', '--file', file, ...inVault, '-o', 'none']),
    );
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const deleted = parseJson<CertificateJson>(
      await cli(['certificate', 'delete', '-n', 'web', ...inVault, '-o', 'json']),
    );
    assert.match(deleted.recoveryId ?? '', /\/deletedcertificates\/web$/);
    const listedDeleted = await cli([
      'certificate',
      'list-deleted',
      ...inVault,
      '--query',
      '[].name',
      '-o',
      'json',
    ]);
    assert.ok(parseJson<string[]>(listedDeleted).includes('web'));
    const shownDeleted = await cli([
      'certificate',
      'show-deleted',
      '-n',
      'web',
      ...inVault,
      '--query',
      'name',
      '-o',
      'tsv',
    ]);
    assert.equal(shownDeleted.stdout, 'web\n');
    assertSucceeded(await cli(['certificate', 'recover', '-n', 'web', ...inVault, '-o', 'none']));
    assertSucceeded(await cli(['certificate', 'delete', '-n', 'web', ...inVault, '-o', 'none']));
    assertSucceeded(await cli(['certificate', 'purge', '-n', 'web', ...inVault, '-o', 'none']));
    const restored = parseJson<CertificateJson>(
      await cli(['certificate', 'restore', '--file', file, ...inVault, '-o', 'json']),
    );
    assert.equal(restored.policy?.x509CertificateProperties?.subject, 'CN=cli.example.test');
  });
});
