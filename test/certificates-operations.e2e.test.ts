import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CertificateClient } from '@azure/keyvault-certificates';
import { Openssl, collect, operationOf, rejectsWith, x509Of } from './helpers/certificates.js';
import { fetchToken, type RawResponse, rawRequest } from './helpers/http.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// Certificate creation as the long-running operation Key Vault makes it (the create answers 202
// inProgress, a later poll sees it completed), listings with includePending, and the merge the
// official JavaScript sample performs, byte for byte as it sends it.

const poll = { intervalInMs: 20 };

interface OperationBody {
  status: string;
  status_details?: string;
  target?: string;
  csr?: string;
}
interface ListBody {
  value: Array<{ id: string; x5t?: string; attributes: { enabled: boolean } }>;
  nextLink: string | null;
}

describe('certificate operations: creation as a long-running operation, includePending, merge', () => {
  let server: DevServer;
  let client: CertificateClient;
  let openssl: Openssl;
  let token: string;

  const raw = (method: string, path: string, body?: unknown): Promise<RawResponse> =>
    rawRequest(`${server.facts.vaultUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  before(async () => {
    server = await startDevServer();
    client = new CertificateClient(server.facts.vaultUrl, server.credential);
    openssl = new Openssl();
    const { authorityHost, tenantId, clientId, clientSecret } = server.facts;
    token = await fetchToken(authorityHost, tenantId, clientId, clientSecret);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it('answers a create with 202 inProgress; the next poll of the operation reports it completed', async () => {
    const created = await raw('POST', '/certificates/lro/create?api-version=7.6', {
      policy: { issuer: { name: 'Self' }, x509_props: { subject: 'CN=lro' } },
    });
    assert.equal(created.status, 202, created.text);
    const accepted = created.json() as OperationBody;
    assert.equal(accepted.status, 'inProgress', 'a poller that sees completed at once never polls');
    assert.equal(accepted.target, undefined);
    assert.ok(accepted.csr, 'the request is shown from the start');

    const polled = await raw('GET', '/certificates/lro/pending?api-version=7.6');
    assert.equal(polled.status, 200, polled.text);
    const done = polled.json() as OperationBody;
    assert.equal(done.status, 'completed');
    assert.equal(done.target, `${server.facts.vaultUrl}/certificates/lro`);
    const certificate = await client.getCertificate('lro');
    assert.equal(x509Of(certificate).subject, 'CN=lro');
  });

  it("returns the certificate from the JavaScript SDK's poller with default polling", async () => {
    const poller = await client.beginCreateCertificate('lro-sdk', {
      issuerName: 'Self',
      subject: 'CN=lro-sdk',
    });
    const certificate = await poller.pollUntilDone();
    assert.equal(operationOf(poller)?.status, 'completed');
    assert.equal(x509Of(certificate).subject, 'CN=lro-sdk');
    assert.ok(certificate.properties.version);
  });

  it('lists certificates whose first version is pending only with includePending=true, page by page', async () => {
    for (const name of ['pend-a', 'pend-c']) {
      await (
        await client.beginCreateCertificate(name, { issuerName: 'Self', subject: `CN=${name}` }, poll)
      ).pollUntilDone();
    }
    await client.beginCreateCertificate('Pend-B', { issuerName: 'Unknown', subject: 'CN=pend-b' }, poll);
    const names = async (includePending?: boolean) =>
      (
        await collect(
          client.listPropertiesOfCertificates(includePending === undefined ? {} : { includePending }),
        )
      )
        .map((properties) => properties.name)
        .filter((name) => name?.toLowerCase().startsWith('pend-'));
    assert.deepEqual(await names(), ['pend-a', 'pend-c']);
    assert.deepEqual(await names(false), ['pend-a', 'pend-c']);
    assert.deepEqual(await names(true), ['pend-a', 'Pend-B', 'pend-c']);
    const pending = (await collect(client.listPropertiesOfCertificates({ includePending: true }))).find(
      (properties) => properties.name === 'Pend-B',
    );
    assert.equal(pending?.enabled, false);
    assert.equal(pending?.x509Thumbprint, undefined);

    // One item a page: each nextLink keeps includePending, so the pending one is on its page.
    const seen: string[] = [];
    let next: string | null =
      `${server.facts.vaultUrl}/certificates?api-version=7.6&includePending=true&maxresults=1`;
    while (next) {
      const response = await rawRequest(next, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status, 200, response.text);
      const page = response.json() as ListBody;
      assert.ok(page.value.length <= 1);
      seen.push(...page.value.map((item) => item.id.split('/').pop()!));
      if (page.nextLink) assert.match(page.nextLink, /includePending=true/);
      next = page.nextLink;
    }
    assert.deepEqual(
      seen.filter((name) => name.toLowerCase().startsWith('pend-')),
      ['pend-a', 'Pend-B', 'pend-c'],
    );

    await client.deleteCertificateOperation('Pend-B');
    assert.deepEqual(await names(true), ['pend-a', 'pend-c'], 'a deleted operation leaves nothing to list');
    const refused = await raw('GET', '/certificates?api-version=7.6&includePending=yes');
    assert.equal(refused.status, 400, refused.text);
    assert.equal((refused.json() as { error: { code: string } }).error.code, 'BadParameter');
  });

  it('merges as the official JavaScript sample does: the bytes of the base64 text of the signed certificate', async () => {
    // samples-dev/mergeCertificate.ts of @azure/keyvault-certificates, step by step.
    const name = 'merge-sample';
    await client.beginCreateCertificate(name, {
      issuerName: 'Unknown',
      certificateTransparency: false,
      subject: 'cn=MyCert',
    });
    const operationPoller = await client.getCertificateOperation(name);
    // The sample reads getOperationState().certificateOperation, which 4.10.3's getOperationState()
    // leaves out (helpers/certificates.ts): the same operation is read where the poller keeps it.
    const { csr } = operationOf(operationPoller)!;
    const base64Csr = Buffer.from(csr!).toString('base64');
    const wrappedCsr = `-----BEGIN CERTIFICATE REQUEST-----
${base64Csr}
-----END CERTIFICATE REQUEST-----`;
    writeFileSync(openssl.path('test.csr'), wrappedCsr);
    openssl.run('genrsa', '-out', 'ca.key', '2048');
    openssl.run('req', '-new', '-x509', '-key', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=Sample CA');
    openssl.run(
      'x509',
      '-req',
      '-in',
      'test.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'test.crt',
    );
    const base64Crt = readFileSync(openssl.path('test.crt')).toString().split('\n').slice(1, -1).join('');

    const merged = await client.mergeCertificate(name, [Buffer.from(base64Crt)]);
    const signed = new X509Certificate(readFileSync(openssl.path('test.crt')));
    assert.deepEqual(Buffer.from(merged.cer ?? []), signed.raw);
    assert.equal(x509Of(merged).subject, 'CN=MyCert');
    assert.equal((await client.getCertificate(name)).properties.version, merged.properties.version);
  });

  it('merges PEM text holding the certificate and its chain, and still refuses what is no certificate', async () => {
    const name = 'merge-pem';
    const poller = await client.beginCreateCertificate(
      name,
      { issuerName: 'Unknown', subject: 'CN=merge-pem' },
      poll,
    );
    const csr = Buffer.from(operationOf(poller)?.csr ?? []);
    const ca = openssl.ca('pem-ca', '/CN=PEM Test CA');
    const leaf = openssl.signRequest('merge-pem', csr, ca);

    await rejectsWith(client.mergeCertificate(name, [Buffer.from('not a certificate')]), 400, 'BadParameter');
    await rejectsWith(client.mergeCertificate(name, [Buffer.from([0x04, 0x01, 0x00])]), 400, 'BadParameter');
    const merged = await client.mergeCertificate(name, [
      Buffer.from(leaf.toString() + ca.certificate.toString()),
    ]);
    assert.deepEqual(Buffer.from(merged.cer ?? []), leaf.raw);
    assert.equal(x509Of(merged).issuer, 'CN=PEM Test CA');
  });
});
