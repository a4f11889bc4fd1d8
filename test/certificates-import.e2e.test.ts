import assert from 'node:assert/strict';
import { type KeyObject, X509Certificate, createHash, createPrivateKey, sign, verify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CertificateClient } from '@azure/keyvault-certificates';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import {
  DAY_MS,
  Openssl,
  SERVER_AUTH,
  adminApi,
  collect,
  rejectsWith,
  splitPem,
  vaultUrlOf,
} from './helpers/certificates.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// Importing certificates made by openssl (PKCS#12 with and without a password, PEM; RSA and EC),
// with the policy derived from the certificate; then the lifecycle of a certificate and the key
// and secret it owns: soft delete, recover, purge, backup and restore.

const poll = { intervalInMs: 20 };

interface Made {
  key: KeyObject;
  keyPem: string;
  certPem: string;
  certificate: X509Certificate;
}

describe('certificate import and lifecycle', () => {
  let server: DevServer;
  let client: CertificateClient;
  let keys: KeyClient;
  let secrets: SecretClient;
  let openssl: Openssl;

  /** A self-signed certificate and its key, by openssl. */
  const selfSigned = (stem: string, keyArgs: string[], subject: string, extensions: string[] = []): Made => {
    openssl.run(
      'req',
      '-x509',
      ...keyArgs,
      '-nodes',
      '-keyout',
      `${stem}.key`,
      '-out',
      `${stem}.pem`,
      '-days',
      '200',
      '-subj',
      subject,
      ...extensions.flatMap((extension) => ['-addext', extension]),
    );
    const keyPem = openssl.read(`${stem}.key`).toString();
    const certPem = openssl.read(`${stem}.pem`).toString();
    return { key: createPrivateKey(keyPem), keyPem, certPem, certificate: new X509Certificate(certPem) };
  };
  const rsa = ['-newkey', 'rsa:2048'];
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  /** `openssl pkcs12 -export` of a made certificate; extra arguments choose the encryption. */
  const pkcs12 = (stem: string, password: string, ...extra: string[]) => {
    openssl.run(
      'pkcs12',
      '-export',
      '-inkey',
      `${stem}.key`,
      '-in',
      `${stem}.pem`,
      '-passout',
      `pass:${password}`,
      '-out',
      `${stem}.pfx`,
      ...extra,
    );
    return openssl.read(`${stem}.pfx`);
  };
  const secretOf = async (name: string, version?: string) => {
    const secret = await secrets.getSecret(name, { version });
    const value = secret.value ?? '';
    const parts =
      secret.properties.contentType === 'application/x-pem-file'
        ? splitPem(value)
        : openssl.pkcs12(Buffer.from(value, 'base64'));
    return { secret, ...parts };
  };
  /** RS256 through the vault equals node's own (PKCS#1 v1.5 is deterministic): the very key came in. */
  const assertSameRsaKey = async (keyId: string | undefined, key: KeyObject) => {
    const message = Buffer.from(`signed by ${keyId}`);
    const digest = createHash('sha256').update(message).digest();
    const signed = await new CryptographyClient(keyId ?? '', server.credential).sign('RS256', digest);
    assert.deepEqual(Buffer.from(signed.result), sign('sha256', message, key));
  };
  const deleteCertificate = async (name: string) =>
    (await client.beginDeleteCertificate(name, poll)).pollUntilDone();

  before(async () => {
    server = await startDevServer();
    client = new CertificateClient(server.facts.vaultUrl, server.credential);
    keys = new KeyClient(server.facts.vaultUrl, server.credential);
    secrets = new SecretClient(server.facts.vaultUrl, server.credential);
    openssl = new Openssl();
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it('imports a password-protected RSA PKCS#12 and derives the policy from the certificate', async () => {
    const made = selfSigned('rsa-pfx', rsa, '/CN=imported.example/O=Contoso', [
      'subjectAltName=DNS:imported.example,DNS:www.imported.example',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
    ]);
    const imported = await client.importCertificate('imported-rsa', pkcs12('rsa-pfx', 's3cret pass'), {
      password: 's3cret pass',
      tags: { source: 'openssl' },
    });
    assert.deepEqual(Buffer.from(imported.cer ?? []), made.certificate.raw);
    assert.deepEqual(imported.properties.tags, { source: 'openssl' });
    assert.equal(imported.properties.expiresOn?.getTime(), Date.parse(made.certificate.validTo));
    const policy = imported.policy;
    assert.equal(policy?.subject, 'CN=imported.example, O=Contoso');
    assert.deepEqual(policy?.subjectAlternativeNames, {
      dnsNames: ['imported.example', 'www.imported.example'],
    });
    assert.deepEqual(policy?.keyUsage, ['digitalSignature', 'keyEncipherment']);
    assert.deepEqual(policy?.enhancedKeyUsage, [SERVER_AUTH]);
    assert.equal(policy?.validityInMonths, 7, '200 days');
    assert.equal(policy?.keyType, 'RSA');
    assert.equal(policy?.keySize, 2048);
    assert.equal(policy?.exportable, true);
    assert.equal(policy?.contentType, 'application/x-pkcs12');
    assert.deepEqual(await client.getCertificatePolicy('imported-rsa'), policy);

    // The secret is a PKCS#12 of its own (no password) with the imported key; the key is the same key.
    const { secret, keys: privateKeys, certificates } = await secretOf('imported-rsa');
    assert.equal(secret.properties.managed, true);
    assert.deepEqual(
      certificates.map((item) => item.raw),
      [made.certificate.raw],
    );
    assert.deepEqual(
      privateKeys[0]?.export({ type: 'pkcs8', format: 'der' }),
      made.key.export({ type: 'pkcs8', format: 'der' }),
    );
    assert.equal((await keys.getKey('imported-rsa')).properties.managed, true);
    await assertSameRsaKey(imported.keyId, made.key);
  });

  it('imports PKCS#12 without a password, with legacy 3DES encryption, and with an EC key', async () => {
    const plain = selfSigned('plain-pfx', rsa, '/CN=plain.example');
    const noPassword = await client.importCertificate('imported-plain', pkcs12('plain-pfx', ''));
    assert.deepEqual(Buffer.from(noPassword.cer ?? []), plain.certificate.raw);
    await assertSameRsaKey(noPassword.keyId, plain.key);

    const legacy = selfSigned('legacy-pfx', rsa, '/CN=legacy.example');
    const legacyArgs = ['-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'];
    const imported = await client.importCertificate(
      'imported-legacy',
      pkcs12('legacy-pfx', 'old', ...legacyArgs),
      {
        password: 'old',
      },
    );
    assert.deepEqual(Buffer.from(imported.cer ?? []), legacy.certificate.raw);
    await assertSameRsaKey(imported.keyId, legacy.key);

    const curve = selfSigned('ec-pfx', ec, '/CN=ec.example');
    const ecImported = await client.importCertificate('imported-ec', pkcs12('ec-pfx', 'ec-pass'), {
      password: 'ec-pass',
    });
    assert.equal(ecImported.policy?.keyType, 'EC');
    assert.equal(ecImported.policy?.keyCurveName, 'P-256');
    const key = await keys.getKey('imported-ec');
    assert.equal(key.key?.crv, 'P-256');
    const message = Buffer.from('ec import');
    const signed = await new CryptographyClient(ecImported.keyId ?? '', server.credential).sign(
      'ES256',
      createHash('sha256').update(message).digest(),
    );
    const publicKey = { key: curve.certificate.publicKey, dsaEncoding: 'ieee-p1363' as const };
    assert.ok(verify('sha256', message, publicKey, Buffer.from(signed.result)));
    const { keys: privateKeys } = await secretOf('imported-ec');
    assert.ok(curve.certificate.checkPrivateKey(privateKeys[0]!));
  });

  it('imports PEM (key and certificate chain) and keeps it as PEM', async () => {
    const ca = openssl.ca('pem-ca', '/CN=PEM Test CA');
    openssl.run(
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'pem-leaf.key',
      '-subj',
      '/CN=pem.example',
      '-out',
      'pem-leaf.csr',
    );
    openssl.run(
      'x509',
      '-req',
      '-in',
      'pem-leaf.csr',
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-set_serial',
      '7',
      '-days',
      '30',
      '-out',
      'pem-leaf.pem',
    );
    const keyPem = openssl.read('pem-leaf.key').toString();
    const leaf = new X509Certificate(openssl.read('pem-leaf.pem'));
    const text = `${keyPem}${leaf.toString()}${ca.certificate.toString()}`;
    const imported = await client.importCertificate('imported-pem', Buffer.from(text), {
      policy: { contentType: 'application/x-pem-file' },
    });
    assert.deepEqual(Buffer.from(imported.cer ?? []), leaf.raw);
    assert.equal(imported.policy?.contentType, 'application/x-pem-file');
    assert.equal(imported.policy?.subject, 'CN=pem.example');
    const { secret, keys: privateKeys, certificates } = await secretOf('imported-pem');
    assert.equal(secret.properties.contentType, 'application/x-pem-file');
    assert.deepEqual(
      certificates.map((item) => item.raw),
      [leaf.raw, ca.certificate.raw],
    );
    assert.ok(leaf.checkPrivateKey(privateKeys[0]!));
    await assertSameRsaKey(imported.keyId, createPrivateKey(keyPem));

    // A second import is a new version of the same certificate.
    const again = selfSigned('pem-again', rsa, '/CN=pem.example');
    const second = await client.importCertificate('imported-pem', Buffer.from(again.keyPem + again.certPem), {
      policy: { contentType: 'application/x-pem-file' },
    });
    const versions = await collect(client.listPropertiesOfCertificateVersions('imported-pem'));
    assert.deepEqual(
      versions.map((item) => item.version).sort(),
      [imported.properties.version, second.properties.version].sort(),
    );
  });

  it('refuses a wrong password, a certificate without its private key, and a key of another certificate', async () => {
    const made = selfSigned('refused', rsa, '/CN=refused.example');
    const pfx = pkcs12('refused', 'right');
    await rejectsWith(client.importCertificate('refused', pfx, { password: 'wrong' }), 400, 'BadParameter');
    await rejectsWith(client.importCertificate('refused', pfx), 400, 'BadParameter');
    openssl.run(
      'pkcs12',
      '-export',
      '-nokeys',
      '-in',
      'refused.pem',
      '-passout',
      'pass:',
      '-out',
      'nokey.pfx',
    );
    await rejectsWith(client.importCertificate('refused', openssl.read('nokey.pfx')), 400, 'BadParameter');
    const pem = { policy: { contentType: 'application/x-pem-file' as const } };
    await rejectsWith(
      client.importCertificate('refused', Buffer.from(made.certPem), pem),
      400,
      'BadParameter',
    );
    const other = selfSigned('other', rsa, '/CN=other.example');
    await rejectsWith(
      client.importCertificate('refused', Buffer.from(other.keyPem + made.certPem), pem),
      400,
      'BadParameter',
    );
    await rejectsWith(
      client.importCertificate('refused', Buffer.from('not a certificate')),
      400,
      'BadParameter',
    );
    await rejectsWith(client.getCertificate('refused'), 404, 'CertificateNotFound');
    await rejectsWith(keys.getKey('refused'), 404);
  });

  it('soft-deletes a certificate with its key and secret, and recovers all three', async () => {
    const made = selfSigned('lifecycle', rsa, '/CN=lifecycle.example');
    const imported = await client.importCertificate('lifecycle', pkcs12('lifecycle', ''));
    const secretBefore = (await secrets.getSecret('lifecycle')).value;
    const started = Date.now();
    const deleted = await deleteCertificate('lifecycle');
    assert.equal(deleted.recoveryId, `${server.facts.vaultUrl}/deletedcertificates/lifecycle`);
    assert.deepEqual(deleted.cer, imported.cer);
    const deletedOn = deleted.deletedOn?.getTime() ?? Number.NaN;
    assert.ok(Math.abs(deletedOn - started) < 5_000, 'deleted now');
    const days = deleted.properties.recoverableDays ?? 0;
    assert.equal((deleted.scheduledPurgeDate?.getTime() ?? 0) - deletedOn, days * DAY_MS);

    await rejectsWith(client.getCertificate('lifecycle'), 404, 'CertificateNotFound');
    await rejectsWith(keys.getKey('lifecycle'), 404, 'KeyNotFound');
    await rejectsWith(secrets.getSecret('lifecycle'), 404, 'SecretNotFound');
    assert.equal((await keys.getDeletedKey('lifecycle')).properties.version, imported.properties.version);
    assert.ok(await secrets.getDeletedSecret('lifecycle'));
    await rejectsWith(keys.purgeDeletedKey('lifecycle'), 403, 'Forbidden');
    const fetched = await client.getDeletedCertificate('lifecycle');
    assert.equal(fetched.properties.version, imported.properties.version);
    assert.equal(fetched.policy?.subject, 'CN=lifecycle.example');
    assert.ok((await collect(client.listDeletedCertificates())).some((item) => item.name === 'lifecycle'));
    assert.ok(
      !(await collect(client.listPropertiesOfCertificates())).some((item) => item.name === 'lifecycle'),
    );
    await rejectsWith(
      client.beginCreateCertificate('lifecycle', { issuerName: 'Self', subject: 'CN=again' }),
      409,
      'Conflict',
    );

    const recovered = await (await client.beginRecoverDeletedCertificate('lifecycle', poll)).pollUntilDone();
    assert.equal(recovered.properties.version, imported.properties.version);
    assert.equal((await secrets.getSecret('lifecycle')).value, secretBefore);
    assert.equal((await keys.getKey('lifecycle')).properties.version, imported.properties.version);
    await assertSameRsaKey(recovered.keyId, made.key);
    await rejectsWith(client.getDeletedCertificate('lifecycle'), 404, 'CertificateNotFound');
  });

  it('purges a deleted certificate together with its key and secret; the name is free again', async () => {
    const created = await (
      await client.beginCreateCertificate('purged', { issuerName: 'Self', subject: 'CN=purged' }, poll)
    ).pollUntilDone();
    const version = created.properties.version ?? '';
    await deleteCertificate('purged');
    await client.purgeDeletedCertificate('purged');
    await rejectsWith(client.getDeletedCertificate('purged'), 404, 'CertificateNotFound');
    await rejectsWith(keys.getDeletedKey('purged'), 404, 'KeyNotFound');
    await rejectsWith(secrets.getDeletedSecret('purged'), 404, 'SecretNotFound');
    await rejectsWith(keys.getKey('purged', { version }), 404, 'KeyNotFound');
    await rejectsWith(client.getCertificatePolicy('purged'), 404);
    const plain = await keys.createEcKey('purged');
    assert.equal(plain.properties.managed, undefined, 'a plain key may take the name');
  });

  it('backs up a certificate with its versions, policy, key and secret, and restores it after purge and in another vault', async () => {
    const first = selfSigned('backed-1', rsa, '/CN=backed.example');
    const v1 = await client.importCertificate('backed', pkcs12('backed-1', ''));
    const second = await (
      await client.beginCreateCertificate(
        'backed',
        { issuerName: 'Self', subject: 'CN=backed.example', validityInMonths: 5 },
        poll,
      )
    ).pollUntilDone();
    const secretBefore = (await secrets.getSecret('backed')).value;
    const blob = await client.backupCertificate('backed');
    assert.ok(blob && blob.length > 0);
    const pkcs8 = first.key.export({ type: 'pkcs8', format: 'der' });
    for (const form of [pkcs8.toString('base64'), pkcs8.toString('hex'), first.keyPem]) {
      assert.ok(
        !Buffer.from(blob).toString('latin1').includes(form.slice(0, 200)),
        'no private key in clear',
      );
    }
    await rejectsWith(client.restoreCertificateBackup(blob), 409, 'Conflict');

    await deleteCertificate('backed');
    await client.purgeDeletedCertificate('backed');
    const restored = await client.restoreCertificateBackup(blob);
    assert.equal(restored.properties.version, second.properties.version);
    assert.deepEqual(restored.cer, second.cer);
    assert.equal((await client.getCertificatePolicy('backed')).validityInMonths, 5);
    assert.deepEqual((await client.getCertificateVersion('backed', v1.properties.version ?? '')).cer, v1.cer);
    assert.equal((await secrets.getSecret('backed')).value, secretBefore);
    const key = await keys.getKey('backed', { version: v1.properties.version });
    assert.equal(key.properties.managed, true);
    await assertSameRsaKey(key.id, first.key);
    await rejectsWith(keys.beginDeleteKey('backed'), 403, 'Forbidden');

    const admin = await adminApi(server);
    await admin('POST', '/vaults', { name: 'certs-target' });
    const targetUrl = vaultUrlOf(server, 'certs-target');
    const target = new CertificateClient(targetUrl, server.credential);
    const moved = await target.restoreCertificateBackup(blob);
    assert.equal(moved.properties.id, `${targetUrl}/certificates/backed/${second.properties.version}`);
    assert.equal(moved.keyId, `${targetUrl}/keys/backed/${second.properties.version}`);
    const movedSecret = await new SecretClient(targetUrl, server.credential).getSecret('backed');
    assert.equal(movedSecret.value, secretBefore);
    const movedKey = await new KeyClient(targetUrl, server.credential).getKey('backed', {
      version: v1.properties.version,
    });
    await assertSameRsaKey(movedKey.id, first.key);
    await rejectsWith(target.restoreCertificateBackup(Buffer.from('not a backup')), 400, 'BadParameter');
  });
});
