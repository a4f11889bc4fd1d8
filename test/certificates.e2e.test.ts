import assert from 'node:assert/strict';
import {
  X509Certificate,
  constants,
  createHash,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  verify,
} from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { type CertificatePolicy, CertificateClient } from '@azure/keyvault-certificates';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import {
  CLIENT_AUTH,
  DAY_MS,
  Openssl,
  SERVER_AUTH,
  collect,
  monthsBetween,
  operationOf,
  rejectsWith,
  splitPem,
  x509Of,
} from './helpers/certificates.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// Certificates issued by the server itself (issuer Self) through the official CertificateClient,
// and the key and secret each version owns, checked INDEPENDENTLY: the X.509 fields with node:crypto
// and the openssl CLI, the PKCS#12 and PEM with openssl and node:tls, and the key's signatures and
// ciphertexts with node:crypto.

const poll = { intervalInMs: 20 };
const b64url = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('base64url');

describe('certificates through @azure/keyvault-certificates (Self issuer)', () => {
  let server: DevServer;
  let client: CertificateClient;
  let keys: KeyClient;
  let secrets: SecretClient;
  let openssl: Openssl;

  const create = async (name: string, policy: CertificatePolicy) =>
    (await client.beginCreateCertificate(name, policy, poll)).pollUntilDone();
  /** The certificate's secret opened as the policy says: PKCS#12 through openssl, or PEM. */
  const secretParts = async (name: string, version?: string) => {
    const secret = await secrets.getSecret(name, { version });
    const value = secret.value ?? '';
    const parts =
      secret.properties.contentType === 'application/x-pem-file'
        ? splitPem(value)
        : openssl.pkcs12(Buffer.from(value, 'base64'));
    return { secret, ...parts };
  };
  const cryptoFor = (certificate: { keyId?: string }) =>
    new CryptographyClient(certificate.keyId ?? '', server.credential);

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

  it("issues a self-signed certificate at once, with Key Vault's default policy", async () => {
    const poller = await client.beginCreateCertificate('defaults', {
      issuerName: 'Self',
      subject: 'CN=defaults',
    });
    const operation = operationOf(poller);
    assert.equal(operation?.status, 'completed');
    assert.equal(operation?.target, `${server.facts.vaultUrl}/certificates/defaults`);
    const certificate = await poller.pollUntilDone();
    const version = certificate.properties.version ?? '';
    assert.match(version, /^[0-9a-f]{32}$/);
    assert.equal(certificate.properties.id, `${server.facts.vaultUrl}/certificates/defaults/${version}`);
    assert.equal(certificate.keyId, `${server.facts.vaultUrl}/keys/defaults/${version}`);
    assert.equal(certificate.secretId, `${server.facts.vaultUrl}/secrets/defaults/${version}`);
    assert.deepEqual(certificate.policy, {
      ...certificate.policy,
      issuerName: 'Self',
      subject: 'CN=defaults',
      keyType: 'RSA',
      keySize: 2048,
      exportable: true,
      reuseKey: false,
      contentType: 'application/x-pkcs12',
      validityInMonths: 12,
      keyUsage: ['digitalSignature', 'keyEncipherment'],
      enhancedKeyUsage: [SERVER_AUTH, CLIENT_AUTH],
      lifetimeActions: [{ action: 'AutoRenew', lifetimePercentage: 80, daysBeforeExpiry: undefined }],
      enabled: true,
    });

    const x509 = x509Of(certificate);
    assert.equal(x509.subject, 'CN=defaults');
    assert.equal(x509.issuer, 'CN=defaults');
    assert.ok(x509.verify(x509.publicKey), 'the self-signature verifies');
    assert.equal(x509.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.deepEqual([...(x509.keyUsage ?? [])].sort(), [SERVER_AUTH, CLIENT_AUTH].sort());
    const text = openssl.text(x509);
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
    assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
    assert.equal(x509.ca, false);
    const months = monthsBetween(x509.validFrom, x509.validTo);
    assert.ok(months > 11.8 && months < 12.2, `valid ${months} months`);
    assert.ok(Math.abs(Date.parse(x509.validFrom) - Date.now()) < DAY_MS, 'valid from now');
    assert.equal(certificate.properties.notBefore?.getTime(), Date.parse(x509.validFrom));
    assert.equal(certificate.properties.expiresOn?.getTime(), Date.parse(x509.validTo));
    const sha1 = createHash('sha1').update(x509.raw).digest('hex');
    assert.equal(certificate.properties.x509ThumbprintString, sha1);
    assert.equal(x509.fingerprint.replaceAll(':', '').toLowerCase(), sha1);

    const read = await client.getCertificate('defaults');
    assert.deepEqual(Buffer.from(read.cer ?? []), x509.raw);
    assert.deepEqual(await client.getCertificatePolicy('defaults'), read.policy);
  });

  it('puts the subject, every kind of SAN, key usages, EKUs, key size and validity of the policy into the certificate', async () => {
    const certificate = await create('named', {
      issuerName: 'Self',
      subject: 'CN=app.contoso.example, O=Contoso, C=US',
      subjectAlternativeNames: {
        dnsNames: ['app.contoso.example', '*.app.contoso.example'],
        emails: ['ops@contoso.example'],
        userPrincipalNames: ['svc@contoso.example'],
        uniformResourceIdentifiers: ['https://contoso.example/app'],
        ipAddresses: ['10.1.2.3', '2001:db8::7'],
      },
      keySize: 3072,
      keyUsage: ['digitalSignature', 'nonRepudiation'],
      enhancedKeyUsage: [CLIENT_AUTH],
      validityInMonths: 3,
    });
    const x509 = x509Of(certificate);
    assert.deepEqual(x509.subject.split('\n').sort(), ['C=US', 'CN=app.contoso.example', 'O=Contoso']);
    assert.ok(x509.verify(x509.publicKey));
    assert.equal(x509.publicKey.asymmetricKeyDetails?.modulusLength, 3072);
    const sans = (x509.subjectAltName ?? '').split(', ');
    for (const name of [
      'DNS:app.contoso.example',
      'DNS:*.app.contoso.example',
      'email:ops@contoso.example',
      'URI:https://contoso.example/app',
      'IP Address:10.1.2.3',
      'IP Address:2001:DB8:0:0:0:0:0:7',
    ]) {
      assert.ok(sans.includes(name), `${name} in ${x509.subjectAltName}`);
    }
    const text = openssl.text(x509);
    assert.match(text, /othername: UPN::?svc@contoso\.example/);
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation\n/);
    assert.deepEqual(x509.keyUsage, [CLIENT_AUTH]);
    const months = monthsBetween(x509.validFrom, x509.validTo);
    assert.ok(months > 2.9 && months < 3.1, `valid ${months} months`);
    assert.deepEqual(certificate.policy?.subjectAlternativeNames, {
      dnsNames: ['app.contoso.example', '*.app.contoso.example'],
      emails: ['ops@contoso.example'],
      userPrincipalNames: ['svc@contoso.example'],
      uniformResourceIdentifiers: ['https://contoso.example/app'],
      ipAddresses: ['10.1.2.3', '2001:db8::7'],
    });
    await rejectsWith(
      client.beginCreateCertificate('bad-size', { issuerName: 'Self', subject: 'CN=x', keySize: 1024 }),
      400,
      'BadParameter',
    );
    await rejectsWith(
      client.beginCreateCertificate('bad-months', {
        issuerName: 'Self',
        subject: 'CN=x',
        validityInMonths: 0,
      }),
      400,
      'BadParameter',
    );
  });

  it('issues a certificate with SANs and no subject (the SAN extension is then critical)', async () => {
    const certificate = await create('sans-only', {
      issuerName: 'Self',
      subjectAlternativeNames: { dnsNames: ['only.example'] },
    });
    const x509 = x509Of(certificate);
    assert.equal(x509.subject ?? '', '', 'no subject (node reports an empty one as undefined)');
    assert.equal(x509.subjectAltName, 'DNS:only.example');
    assert.ok(x509.verify(x509.publicKey));
    assert.match(openssl.text(x509), /X509v3 Subject Alternative Name: critical\s+DNS:only\.example\n/);
    assert.deepEqual(certificate.policy?.subjectAlternativeNames, { dnsNames: ['only.example'] });
  });

  it('owns a key and a secret of the same version: the PKCS#12 holds the private key of the certificate', async () => {
    const certificate = await client.getCertificate('defaults');
    const version = certificate.properties.version;
    const x509 = x509Of(certificate);

    const key = await keys.getKey('defaults');
    assert.equal(key.id, certificate.keyId);
    assert.equal(key.properties.version, version);
    assert.equal(key.properties.managed, true);
    assert.equal(key.keyType, 'RSA');
    const jwk = x509.publicKey.export({ format: 'jwk' });
    assert.equal(b64url(key.key?.n), jwk.n, 'the key is the certificate key');
    assert.equal(key.properties.notBefore?.getTime(), Date.parse(x509.validFrom));
    assert.equal(key.properties.expiresOn?.getTime(), Date.parse(x509.validTo));

    const { secret, keys: privateKeys, certificates } = await secretParts('defaults');
    assert.equal(secret.properties.id, certificate.secretId);
    assert.equal(secret.properties.managed, true);
    assert.equal(secret.properties.certificateKeyId, certificate.keyId);
    assert.equal(secret.properties.contentType, 'application/x-pkcs12');
    assert.equal(privateKeys.length, 1);
    assert.equal(certificates.length, 1);
    assert.deepEqual(certificates[0]!.raw, x509.raw);
    assert.ok(x509.checkPrivateKey(privateKeys[0]!), 'the PKCS#12 key is the certificate key');
    // node:tls takes the PKCS#12 as it is (empty password), as a TLS server would.
    assert.doesNotThrow(() => createSecureContext({ pfx: Buffer.from(secret.value ?? '', 'base64') }));

    const crypto = cryptoFor(certificate);
    const message = Buffer.from('signed through the certificate key');
    const signed = await crypto.sign('RS256', createHash('sha256').update(message).digest());
    assert.ok(
      verify('sha256', message, x509.publicKey, Buffer.from(signed.result)),
      'RS256 verifies locally',
    );
    const plaintext = randomBytes(32);
    const ciphertext = publicEncrypt(
      { key: x509.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      plaintext,
    );
    const decrypted = await crypto.decrypt({ algorithm: 'RSA-OAEP', ciphertext });
    assert.deepEqual(Buffer.from(decrypted.result), plaintext);
    const encrypted = await crypto.encrypt({ algorithm: 'RSA-OAEP', plaintext });
    const opened = privateDecrypt(
      { key: privateKeys[0]!, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      Buffer.from(encrypted.result),
    );
    assert.deepEqual(opened, plaintext);
  });

  it('issues EC certificates on P-256, P-384 and P-521 as PEM, whose key signs through CryptographyClient', async () => {
    const curves = [
      ['P-256', 'prime256v1', 'ES256', 'sha256'],
      ['P-384', 'secp384r1', 'ES384', 'sha384'],
      ['P-521', 'secp521r1', 'ES512', 'sha512'],
    ] as const;
    for (const [curve, openSslCurve, algorithm, hash] of curves) {
      const name = `ec-${curve.toLowerCase()}`;
      const certificate = await create(name, {
        issuerName: 'Self',
        subject: `CN=${name}.example`,
        keyType: 'EC',
        keyCurveName: curve,
        contentType: 'application/x-pem-file',
      });
      assert.equal(certificate.policy?.keyCurveName, curve);
      assert.deepEqual(certificate.policy?.keyUsage, ['digitalSignature', 'keyAgreement']);
      const x509 = x509Of(certificate);
      assert.equal(x509.publicKey.asymmetricKeyDetails?.namedCurve, openSslCurve);
      assert.ok(x509.verify(x509.publicKey), `${curve} self-signature`);
      assert.match(openssl.text(x509), /X509v3 Key Usage: critical\s+Digital Signature, Key Agreement\n/);

      const { secret, keys: privateKeys, certificates } = await secretParts(name);
      assert.equal(secret.properties.contentType, 'application/x-pem-file');
      assert.match(secret.value ?? '', /^-----BEGIN PRIVATE KEY-----/);
      assert.deepEqual(
        certificates.map((item) => item.raw),
        [x509.raw],
      );
      assert.ok(x509.checkPrivateKey(privateKeys[0]!), `${curve} PEM key matches`);

      const key = await keys.getKey(name);
      assert.equal(key.keyType, 'EC');
      assert.equal(key.key?.crv, curve);
      const message = Buffer.from(`signed on ${curve}`);
      const signed = await cryptoFor(certificate).sign(algorithm, createHash(hash).update(message).digest());
      const publicKey = { key: x509.publicKey, dsaEncoding: 'ieee-p1363' as const };
      assert.ok(verify(hash, message, publicKey, Buffer.from(signed.result)), `${algorithm} verifies`);
    }
  });

  it('converts the secret between PKCS#12 and PEM on request (outContentType), for certificate secrets only', async () => {
    const certificate = await client.getCertificate('defaults');
    const x509 = x509Of(certificate);
    const asPem = await secrets.getSecret('defaults', { outContentType: 'application/x-pem-file' });
    assert.equal(asPem.properties.contentType, 'application/x-pem-file');
    const pem = splitPem(asPem.value ?? '');
    assert.deepEqual(
      pem.certificates.map((item) => item.raw),
      [x509.raw],
    );
    assert.equal(pem.keys.length, 1);
    assert.ok(x509.checkPrivateKey(pem.keys[0]!), 'the PEM holds the key of the certificate');

    await create('pem-to-pfx', {
      issuerName: 'Self',
      subject: 'CN=pem-to-pfx',
      contentType: 'application/x-pem-file',
    });
    const asPfx = await secrets.getSecret('pem-to-pfx', { outContentType: 'application/x-pkcs12' });
    assert.equal(asPfx.properties.contentType, 'application/x-pkcs12');
    const opened = openssl.pkcs12(Buffer.from(asPfx.value ?? '', 'base64'));
    assert.ok(opened.certificates[0]!.checkPrivateKey(opened.keys[0]!));

    await secrets.setSecret('plain-for-conversion', 'not a certificate');
    await rejectsWith(
      secrets.getSecret('plain-for-conversion', { outContentType: 'application/x-pem-file' }),
      400,
    );
  });

  it('keeps a non-exportable key out of the secret, which then holds only the certificate', async () => {
    const certificate = await create('sealed-key', {
      issuerName: 'Self',
      subject: 'CN=sealed-key',
      exportable: false,
      keySize: 4096,
    });
    assert.equal(certificate.policy?.exportable, false);
    const x509 = x509Of(certificate);
    const { keys: privateKeys, certificates } = await secretParts('sealed-key');
    assert.equal(privateKeys.length, 0, 'no private key in the secret');
    assert.deepEqual(
      certificates.map((item) => item.raw),
      [x509.raw],
    );
    const pem = await create('sealed-pem', {
      issuerName: 'Self',
      subject: 'CN=sealed-pem',
      exportable: false,
      contentType: 'application/x-pem-file',
    });
    const value = (await secrets.getSecret('sealed-pem')).value ?? '';
    assert.doesNotMatch(value, /PRIVATE KEY/);
    assert.deepEqual(new X509Certificate(value).raw, x509Of(pem).raw);
    // The key still works inside the vault.
    const message = Buffer.from('non-exportable');
    const signed = await cryptoFor(certificate).sign('RS256', createHash('sha256').update(message).digest());
    assert.ok(verify('sha256', message, x509.publicKey, Buffer.from(signed.result)));
  });

  it('changes the managed key and secret only through the certificate, and refuses names of plain keys and secrets', async () => {
    const certificate = await client.getCertificate('defaults');
    const version = certificate.properties.version ?? '';
    await rejectsWith(keys.beginDeleteKey('defaults'), 403, 'Forbidden');
    await rejectsWith(keys.updateKeyProperties('defaults', version, { enabled: false }), 403, 'Forbidden');
    await rejectsWith(keys.createRsaKey('defaults'), 403, 'Forbidden');
    await rejectsWith(secrets.setSecret('defaults', 'overwritten'), 403, 'Forbidden');
    await rejectsWith(
      secrets.updateSecretProperties('defaults', version, { tags: { a: 'b' } }),
      403,
      'Forbidden',
    );
    await rejectsWith(secrets.beginDeleteSecret('defaults'), 403, 'Forbidden');
    assert.equal((await keys.getKey('defaults')).properties.version, version, 'nothing changed');
    assert.equal((await secrets.getSecret('defaults')).properties.version, version);

    await keys.createEcKey('plain-key');
    await secrets.setSecret('plain-secret', 'value');
    for (const name of ['plain-key', 'plain-secret']) {
      for (const issuerName of ['Self', 'Unknown']) {
        await rejectsWith(
          client.beginCreateCertificate(name, { issuerName, subject: `CN=${name}` }),
          409,
          'Conflict',
        );
      }
    }
    assert.equal((await secrets.getSecret('plain-secret')).value, 'value');
    await rejectsWith(client.getCertificate('plain-key'), 404, 'CertificateNotFound');
  });

  it('versions: each creation is a new version with its own key, listed and readable by version', async () => {
    const first = await create('versioned', { issuerName: 'Self', subject: 'CN=versioned' });
    const second = await create('versioned', { issuerName: 'Self', subject: 'CN=versioned' });
    const [v1, v2] = [first.properties.version ?? '', second.properties.version ?? ''];
    assert.notEqual(v1, v2);
    assert.equal((await client.getCertificate('versioned')).properties.version, v2);
    const older = await client.getCertificateVersion('versioned', v1);
    assert.deepEqual(older.cer, first.cer);
    assert.notEqual(b64url(first.cer), b64url(second.cer));
    const firstKey = x509Of(first).publicKey.export({ format: 'jwk' }).n;
    assert.notEqual(firstKey, x509Of(second).publicKey.export({ format: 'jwk' }).n, 'a new key pair');
    assert.equal(b64url((await keys.getKey('versioned', { version: v1 })).key?.n), firstKey);
    const { keys: oldKeys } = await secretParts('versioned', v1);
    assert.ok(x509Of(first).checkPrivateKey(oldKeys[0]!));

    const versions = await collect(client.listPropertiesOfCertificateVersions('versioned'));
    assert.deepEqual(versions.map((item) => item.version).sort(), [v1, v2].sort());
    const listed = await collect(client.listPropertiesOfCertificates());
    const names = listed.map((item) => item.name);
    for (const name of ['defaults', 'named', 'versioned', 'ec-p-256', 'sealed-key'])
      assert.ok(names.includes(name));
    assert.equal(names.filter((name) => name === 'versioned').length, 1);
    const item = listed.find((entry) => entry.name === 'versioned');
    assert.equal(item?.x509ThumbprintString, second.properties.x509ThumbprintString);

    // reuseKey: a new version keeps the key pair of the latest one.
    const reused = await create('versioned', { issuerName: 'Self', subject: 'CN=versioned', reuseKey: true });
    assert.equal(
      x509Of(reused).publicKey.export({ format: 'jwk' }).n,
      x509Of(second).publicKey.export({ format: 'jwk' }).n,
    );
    assert.notEqual(reused.properties.version, v2);
  });

  it('updates tags and enabled of a version; disabling also disables its key and secret', async () => {
    const certificate = await create('toggled', { issuerName: 'Self', subject: 'CN=toggled' });
    const version = certificate.properties.version ?? '';
    const tagged = await client.updateCertificateProperties('toggled', version, { tags: { env: 'test' } });
    assert.deepEqual(tagged.properties.tags, { env: 'test' });
    assert.deepEqual((await client.getCertificate('toggled')).properties.tags, { env: 'test' });

    const disabled = await client.updateCertificateProperties('toggled', '', { enabled: false });
    assert.equal(disabled.properties.enabled, false);
    assert.equal(disabled.properties.version, version);
    assert.equal((await client.getCertificateVersion('toggled', version)).properties.enabled, false);
    const keyVersions = await collect(keys.listPropertiesOfKeyVersions('toggled'));
    assert.deepEqual(
      keyVersions.map((item) => item.enabled),
      [false],
    );
    await rejectsWith(secrets.getSecret('toggled'), 403, 'Forbidden');
    await rejectsWith(
      cryptoFor(certificate).sign('RS256', createHash('sha256').update('x').digest()),
      403,
      'Forbidden',
    );

    await client.updateCertificateProperties('toggled', version, { enabled: true });
    assert.equal((await keys.getKey('toggled')).properties.enabled, true);
    const { keys: privateKeys } = await secretParts('toggled');
    assert.ok(x509Of(certificate).checkPrivateKey(privateKeys[0]!));
  });

  it('reads the policy, and updates it partially: what is not sent keeps its value', async () => {
    await create('policied', {
      issuerName: 'Self',
      subject: 'CN=policied.example',
      subjectAlternativeNames: { dnsNames: ['policied.example'] },
      keyType: 'EC',
      keyCurveName: 'P-384',
      validityInMonths: 6,
      keyUsage: ['digitalSignature'],
      enhancedKeyUsage: [SERVER_AUTH],
    });
    await client.updateCertificatePolicy('policied', {
      subject: 'CN=renamed.example',
      validityInMonths: 24,
      lifetimeActions: [{ action: 'EmailContacts', daysBeforeExpiry: 30 }],
    });
    const policy = await client.getCertificatePolicy('policied');
    assert.equal(policy.subject, 'CN=renamed.example');
    assert.equal(policy.validityInMonths, 24);
    assert.deepEqual(policy.lifetimeActions, [
      { action: 'EmailContacts', daysBeforeExpiry: 30, lifetimePercentage: undefined },
    ]);
    assert.deepEqual(policy.subjectAlternativeNames, { dnsNames: ['policied.example'] }, 'SANs kept');
    assert.equal(policy.keyType, 'EC');
    assert.equal(policy.keyCurveName, 'P-384');
    assert.equal(policy.issuerName, 'Self');
    assert.deepEqual(policy.keyUsage, ['digitalSignature']);
    assert.deepEqual(policy.enhancedKeyUsage, [SERVER_AUTH]);
    assert.equal((await client.getCertificate('policied')).policy?.subject, 'CN=renamed.example');
    await rejectsWith(
      client.updateCertificatePolicy('policied', { subject: 'CN=x', keySize: 1000, keyType: 'RSA' }),
      400,
      'BadParameter',
    );
    assert.equal(
      (await client.getCertificatePolicy('policied')).keyType,
      'EC',
      'a bad update changes nothing',
    );
    await rejectsWith(client.getCertificatePolicy('no-such-certificate'), 404, 'CertificateNotFound');
  });
});
