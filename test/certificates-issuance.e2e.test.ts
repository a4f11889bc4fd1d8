import assert from 'node:assert/strict';
import { createHash, verify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type CertificatePolicy, CertificateClient } from '@azure/keyvault-certificates';
import { CryptographyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import {
  Openssl,
  adminApi,
  collect,
  operationOf,
  pemBlock,
  rejectsWith,
  splitPem,
  x509Of,
} from './helpers/certificates.js';
import { fetchToken, rawRequest } from './helpers/http.js';
import { type DevServer, credentialFor, startDevServer } from './helpers/server-process.js';

// Certificates signed by someone else: issuer Unknown, whose request (CSR) openssl signs and the
// caller merges; Coffer's private CA (an issuer of provider Coffer over a CA certificate of the
// vault), checked with node:crypto and `openssl verify`; issuers, contacts, and the certificate roles.

const poll = { intervalInMs: 20 };

interface Principal {
  objectId: string;
  clientId: string;
  clientSecret: string;
}

describe('certificate issuance: merge, private CA, issuers, contacts, roles', () => {
  let server: DevServer;
  let client: CertificateClient;
  let secrets: SecretClient;
  let openssl: Openssl;

  const create = async (name: string, policy: CertificatePolicy) =>
    (await client.beginCreateCertificate(name, policy, poll)).pollUntilDone();
  const pfxOf = async (name: string) =>
    openssl.pkcs12(Buffer.from((await secrets.getSecret(name)).value ?? '', 'base64'));
  const signCsr = (stem: string, csr: Uint8Array, ca: { key: string; cert: string }) =>
    openssl.signRequest(stem, csr, ca);

  before(async () => {
    server = await startDevServer();
    client = new CertificateClient(server.facts.vaultUrl, server.credential);
    secrets = new SecretClient(server.facts.vaultUrl, server.credential);
    openssl = new Openssl();
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it('issuer Unknown: the operation waits with a CSR, and a merge of the certificate signed elsewhere completes it', async () => {
    const poller = await client.beginCreateCertificate(
      'external',
      {
        issuerName: 'Unknown',
        subject: 'CN=external.example',
        subjectAlternativeNames: { dnsNames: ['external.example'] },
      },
      poll,
    );
    const operation = operationOf(poller);
    assert.equal(operation?.status, 'inProgress');
    assert.equal(operation?.issuerName, 'Unknown');
    assert.equal(poller.isDone(), false);
    const csr = Buffer.from(operation?.csr ?? []);
    const followed = await client.getCertificateOperation('external', poll);
    assert.deepEqual(Buffer.from(operationOf(followed)?.csr ?? []), csr);
    assert.equal(operationOf(followed)?.status, 'inProgress');

    // The pending certificate answers without a certificate, with the policy it will get.
    const pending = await client.getCertificate('external');
    assert.equal(pending.cer, undefined);
    assert.equal(pending.policy?.issuerName, 'Unknown');
    assert.deepEqual(pending.policy?.lifetimeActions, [
      { action: 'EmailContacts', lifetimePercentage: 80, daysBeforeExpiry: undefined },
    ]);

    // The CSR is well formed, self-signed, and asks for the policy's subject and SANs.
    openssl.write('external-request.csr', pemBlock('CERTIFICATE REQUEST', csr));
    const request = openssl.run('req', '-in', 'external-request.csr', '-noout', '-verify', '-text');
    assert.match(request, /Subject: CN\s?=\s?external\.example/);
    assert.match(request, /DNS:external\.example/);
    await rejectsWith(
      client.beginCreateCertificate('external', { issuerName: 'Unknown', subject: 'CN=external.example' }),
      409,
      'Conflict',
    );

    const ca = openssl.ca('external-ca', '/CN=External Test CA');
    const signed = signCsr('external', csr, ca);
    // A certificate for another key, from the same CA, does not complete the request.
    openssl.run(
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'other.key',
      '-subj',
      '/CN=x',
      '-out',
      'other-request.csr',
    );
    const other = signCsr('other', derOfCsr('other-request.csr'), ca);
    await rejectsWith(
      client.mergeCertificate('external', [other.raw, ca.certificate.raw]),
      400,
      'BadParameter',
    );

    const merged = await client.mergeCertificate('external', [signed.raw, ca.certificate.raw]);
    assert.deepEqual(Buffer.from(merged.cer ?? []), signed.raw);
    assert.equal(
      merged.properties.version,
      pending.properties.version,
      'the version announced while pending',
    );
    assert.equal(merged.properties.enabled, true);
    const done = await poller.pollUntilDone();
    assert.deepEqual(done.cer, merged.cer);
    const completed = await client.getCertificateOperation('external');
    assert.equal(operationOf(completed)?.status, 'completed');

    // The secret holds the request's private key with the merged chain; the key signs in the vault.
    const { keys, certificates } = await pfxOf('external');
    assert.deepEqual(
      certificates.map((item) => item.raw),
      [signed.raw, ca.certificate.raw],
    );
    assert.ok(signed.checkPrivateKey(keys[0]!), 'the private key of the CSR is the certificate key');
    assert.match(openssl.verify(ca.certificate, signed), /: OK/);
    const message = Buffer.from('merged');
    const signature = await new CryptographyClient(merged.keyId ?? '', server.credential).sign(
      'RS256',
      createHash('sha256').update(message).digest(),
    );
    assert.ok(verify('sha256', message, signed.publicKey, Buffer.from(signature.result)));
  });

  it('moves a self-signed certificate to an outside CA: a new version through Unknown and a merge', async () => {
    const first = await create('moved', { issuerName: 'Self', subject: 'CN=moved.example' });
    const poller = await client.beginCreateCertificate('moved', {
      issuerName: 'Unknown',
      subject: 'CN=moved.example',
    });
    assert.equal(operationOf(poller)?.status, 'inProgress');
    const current = await client.getCertificate('moved');
    assert.deepEqual(
      current.cer,
      first.cer,
      'the issued version stays the latest while the new one is pending',
    );
    const policy = await client.getCertificatePolicy('moved');
    assert.equal(policy.issuerName, 'Unknown');
    assert.deepEqual(policy.lifetimeActions, [
      { action: 'EmailContacts', lifetimePercentage: 80, daysBeforeExpiry: undefined },
    ]);

    const ca = openssl.ca('moved-ca', '/CN=Moved Test CA');
    const signed = signCsr('moved', operationOf(poller)?.csr ?? new Uint8Array(), ca);
    const merged = await client.mergeCertificate('moved', [signed.raw]);
    assert.notEqual(merged.properties.version, first.properties.version);
    assert.deepEqual(Buffer.from((await client.getCertificate('moved')).cer ?? []), signed.raw);
    const versions = await collect(client.listPropertiesOfCertificateVersions('moved'));
    assert.equal(versions.length, 2);
    assert.ok(signed.checkPrivateKey((await pfxOf('moved')).keys[0]!));
  });

  it('cancels a pending creation, deletes the operation, and lets the name be created again', async () => {
    const poller = await client.beginCreateCertificate(
      'cancelled',
      { issuerName: 'Unknown', subject: 'CN=cancelled' },
      poll,
    );
    const csr = operationOf(poller)?.csr ?? new Uint8Array();
    await poller.cancelOperation();
    const followed = await client.getCertificateOperation('cancelled');
    assert.equal(operationOf(followed)?.status, 'cancelled');
    assert.equal(operationOf(followed)?.cancellationRequested, true);
    const ca = openssl.ca('cancel-ca', '/CN=Cancel Test CA');
    await assert.rejects(
      client.mergeCertificate('cancelled', [signCsr('cancelled', csr, ca).raw]),
      (error: unknown) => {
        const status = (error as { statusCode?: number }).statusCode ?? 0;
        return status >= 400 && status < 500;
      },
    );
    assert.equal((await client.getCertificate('cancelled')).cer, undefined, 'nothing was issued');

    const removed = await client.deleteCertificateOperation('cancelled');
    assert.equal(removed.status, 'cancelled');
    await rejectsWith(client.getCertificateOperation('cancelled'), 404);
    await rejectsWith(client.deleteCertificateOperation('cancelled'), 404);
    const fresh = await create('cancelled', { issuerName: 'Self', subject: 'CN=cancelled' });
    assert.ok(fresh.cer && fresh.cer.length > 0);

    // Deleting an operation in progress drops it too.
    await client.beginCreateCertificate('dropped', { issuerName: 'Unknown', subject: 'CN=dropped' });
    assert.equal((await client.deleteCertificateOperation('dropped')).status, 'inProgress');
    await rejectsWith(client.getCertificate('dropped'), 404, 'CertificateNotFound');
  });

  it("issues through a Coffer CA: the leaf is signed by the vault's CA certificate and chains to it", async () => {
    const root = await create('corp-root', {
      issuerName: 'Self',
      subject: 'CN=Corp Root CA, O=Corp',
      keyType: 'EC',
      keyCurveName: 'P-384',
      keyUsage: ['keyCertSign', 'cRLSign'],
      exportable: false,
      validityInMonths: 24,
    });
    const rootX509 = x509Of(root);
    assert.equal(rootX509.ca, true);
    assert.match(openssl.text(rootX509), /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
    const issuer = await client.createIssuer('corp-ca', 'Coffer', { accountId: 'corp-root' });
    assert.equal(issuer.provider, 'Coffer');
    assert.equal(issuer.accountId, 'corp-root');

    const poller = await client.beginCreateCertificate(
      'corp-web',
      {
        issuerName: 'corp-ca',
        subject: 'CN=web.corp.example',
        subjectAlternativeNames: { dnsNames: ['web.corp.example'] },
        validityInMonths: 60,
      },
      poll,
    );
    assert.equal(operationOf(poller)?.status, 'completed');
    const leaf = await poller.pollUntilDone();
    assert.equal(leaf.policy?.issuerName, 'corp-ca');
    const leafX509 = x509Of(leaf);
    assert.equal(leafX509.issuer, rootX509.subject);
    assert.ok(leafX509.checkIssued(rootX509), 'issued by the CA');
    assert.ok(leafX509.verify(rootX509.publicKey), "signed with the CA's key");
    assert.ok(!leafX509.verify(leafX509.publicKey), 'not self-signed');
    assert.equal(leafX509.ca, false);
    assert.match(openssl.verify(rootX509, leafX509), /: OK/);
    assert.ok(
      Date.parse(leafX509.validTo) <= Date.parse(rootX509.validTo),
      'the leaf does not outlive its CA',
    );

    const { keys, certificates } = await pfxOf('corp-web');
    assert.deepEqual(
      certificates.map((item) => item.raw),
      [leafX509.raw, rootX509.raw],
    );
    assert.ok(leafX509.checkPrivateKey(keys[0]!));
    // The CA's own secret holds no private key.
    assert.equal((await pfxOf('corp-root')).keys.length, 0);

    const ec = await create('corp-ec', {
      issuerName: 'corp-ca',
      subject: 'CN=ec.corp.example',
      keyType: 'EC',
      contentType: 'application/x-pem-file',
    });
    const pem = splitPem((await secrets.getSecret('corp-ec')).value ?? '');
    assert.deepEqual(
      pem.certificates.map((item) => item.raw),
      [x509Of(ec).raw, rootX509.raw],
    );
    assert.ok(x509Of(ec).checkPrivateKey(pem.keys[0]!));
    assert.match(openssl.verify(rootX509, x509Of(ec)), /: OK/);

    // A disabled CA signs nothing until it is enabled again.
    await client.updateCertificateProperties('corp-root', '', { enabled: false });
    await rejectsWith(
      client.beginCreateCertificate('corp-late', { issuerName: 'corp-ca', subject: 'CN=late' }),
      403,
    );
    await client.updateCertificateProperties('corp-root', '', { enabled: true });
    assert.ok(
      x509Of(await create('corp-late', { issuerName: 'corp-ca', subject: 'CN=late' })).checkIssued(rootX509),
    );
  });

  it('refuses a Coffer CA whose certificate is exportable, no CA, or missing', async () => {
    await create('loose-root', {
      issuerName: 'Self',
      subject: 'CN=Loose Root',
      keyUsage: ['keyCertSign', 'cRLSign'],
    });
    await rejectsWith(
      client.createIssuer('loose-ca', 'Coffer', { accountId: 'loose-root' }),
      400,
      'BadParameter',
    );
    await create('leaf-root', { issuerName: 'Self', subject: 'CN=Not A CA', exportable: false });
    await rejectsWith(
      client.createIssuer('leaf-ca', 'Coffer', { accountId: 'leaf-root' }),
      400,
      'BadParameter',
    );
    await rejectsWith(
      client.createIssuer('ghost-ca', 'Coffer', { accountId: 'no-such-root' }),
      400,
      'BadParameter',
    );
    await rejectsWith(client.getIssuer('loose-ca'), 404, 'CertificateIssuerNotFound');
    await rejectsWith(
      client.beginCreateCertificate('orphan', { issuerName: 'never-created', subject: 'CN=orphan' }),
      400,
      'BadParameter',
    );
  });

  it('stores issuers of other providers without returning their password, and refuses to issue through them', async () => {
    const admins = [{ firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', phone: '555-0100' }];
    const created = await client.createIssuer('digicert', 'DigiCert', {
      accountId: 'account-1',
      password: 'issuer-password-value',
      organizationId: 'org-1',
      administratorContacts: admins,
    });
    // The SDK reads an issuer's name from its id as if it were a certificate's (`issuers`): check the id.
    assert.equal(created.id, `${server.facts.vaultUrl}/certificates/issuers/digicert`);
    assert.equal(created.provider, 'DigiCert');
    assert.equal(created.accountId, 'account-1');
    assert.equal(created.password, undefined);
    assert.equal(created.organizationId, 'org-1');
    assert.deepEqual(created.administratorContacts, admins);
    assert.equal(created.enabled, true);
    const read = await client.getIssuer('digicert');
    assert.deepEqual(read, created);
    const { facts } = server;
    const token = await fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
    const wire = await rawRequest(`${facts.vaultUrl}/certificates/issuers/digicert?api-version=2025-07-01`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(wire.status, 200, wire.text);
    assert.ok(!wire.text.includes('issuer-password-value'), 'the password never leaves the vault');

    const listed = await collect(client.listPropertiesOfIssuers());
    const providers = Object.fromEntries(listed.map((item) => [item.id?.split('/').pop(), item.provider]));
    assert.equal(providers['digicert'], 'DigiCert');
    assert.equal(providers['corp-ca'], 'Coffer');

    const updated = await client.updateIssuer('digicert', { accountId: 'account-2' });
    assert.equal(updated.accountId, 'account-2');
    assert.equal(updated.provider, 'DigiCert');
    assert.equal(updated.organizationId, 'org-1', 'what the update leaves out stays');
    await rejectsWith(
      client.beginCreateCertificate('from-digicert', { issuerName: 'digicert', subject: 'CN=from-digicert' }),
      400,
      'BadParameter',
    );
    await rejectsWith(client.getCertificate('from-digicert'), 404, 'CertificateNotFound');

    const deleted = await client.deleteIssuer('digicert');
    assert.equal(deleted.accountId, 'account-2');
    await rejectsWith(client.getIssuer('digicert'), 404, 'CertificateIssuerNotFound');
    await rejectsWith(client.createIssuer('Self', 'Coffer', { accountId: 'corp-root' }), 400, 'BadParameter');
  });

  it('sets, reads and deletes the certificate contacts', async () => {
    await rejectsWith(client.getContacts(), 404, 'ContactsNotFound');
    const contacts = [
      { email: 'pki@example.com', name: 'PKI team', phone: '555-0101' },
      { email: 'oncall@example.com', name: undefined, phone: undefined },
    ];
    assert.deepEqual(await client.setContacts(contacts), contacts);
    assert.deepEqual(await client.getContacts(), contacts);
    // The SDK's deleteContacts answers [] whatever the service returns (it reads a parsedBody that 4.10.3 never sets).
    await client.deleteContacts();
    await rejectsWith(client.getContacts(), 404, 'ContactsNotFound');
    await rejectsWith(client.setContacts([{ email: 'not an address' }]), 400, 'BadParameter');
  });

  it('Certificate User reads certificates but creates none; Certificates Officer creates but reads no secret value', async () => {
    const admin = await adminApi(server);
    const principal = async (name: string, role: string) => {
      const created = await admin<Principal>('POST', '/principals', { name });
      await admin('POST', '/roles/assignments', {
        role,
        principalId: created.objectId,
        scope: '/vaults/dev',
      });
      return credentialFor(server.facts, created.clientId, created.clientSecret);
    };
    const user = await principal('certificate-user', 'Key Vault Certificate User');
    const officer = await principal('certificates-officer', 'Key Vault Certificates Officer');
    const asUser = new CertificateClient(server.facts.vaultUrl, user);
    const asOfficer = new CertificateClient(server.facts.vaultUrl, officer);

    assert.deepEqual(
      (await asUser.getCertificate('corp-web')).cer,
      (await client.getCertificate('corp-web')).cer,
    );
    assert.ok((await new SecretClient(server.facts.vaultUrl, user).getSecret('corp-web')).value);
    await rejectsWith(
      asUser.beginCreateCertificate('by-user', { issuerName: 'Self', subject: 'CN=by-user' }),
      403,
      'Forbidden',
    );
    await rejectsWith(asUser.getCertificate('by-user'), 404);

    const made = await (
      await asOfficer.beginCreateCertificate(
        'by-officer',
        { issuerName: 'Self', subject: 'CN=by-officer' },
        poll,
      )
    ).pollUntilDone();
    assert.equal(x509Of(made).subject, 'CN=by-officer');
    await rejectsWith(
      new SecretClient(server.facts.vaultUrl, officer).getSecret('by-officer'),
      403,
      'Forbidden',
    );
  });

  /** The DER of a PEM certificate request written by openssl. */
  function derOfCsr(name: string): Buffer {
    const body = openssl
      .read(name)
      .toString()
      .replace(/-----(BEGIN|END) CERTIFICATE REQUEST-----|\s/g, '');
    return Buffer.from(body, 'base64');
  }
});
