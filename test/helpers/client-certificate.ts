import 'reflect-metadata';
import { createHash, createPrivateKey, type KeyObject, randomUUID, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

export interface TestCertificate {
  certPem: string;
  keyPem: string;
  privateKey: KeyObject;
  x5tS256: string;
  x5t: string;
}

/** A self-signed RSA certificate, as `az ad sp credential reset --create-cert` would make. */
export async function selfSignedCertificate(): Promise<TestCertificate> {
  const algorithm = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '0a' + randomUUID().replace(/-/g, '').slice(0, 14),
    name: 'CN=coffer-test-client',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys,
    signingAlgorithm: algorithm,
  });
  const der = Buffer.from(cert.rawData);
  const privateKey = createPrivateKey({
    key: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
    format: 'der',
    type: 'pkcs8',
  });
  return {
    certPem: `${cert.toString('pem')}\n`,
    keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    privateKey,
    x5tS256: createHash('sha256').update(der).digest('base64url'),
    x5t: createHash('sha1').update(der).digest('base64url'),
  };
}
