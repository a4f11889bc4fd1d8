import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, type JWTPayload, SignJWT } from 'jose';
import { ensureDevTls } from '../../src/tls/dev-tls.js';
import { scratchDir, seedTestCa } from './server-process.js';

/**
 * A small OpenID Connect issuer on https://127.0.0.1:{port}, as CI systems and Kubernetes run
 * one: `/.well-known/openid-configuration` and a JWKS, with a certificate from the shared test
 * CA so the server under test trusts it through NODE_EXTRA_CA_CERTS.
 */
export interface TestIssuer {
  issuer: string;
  /** A token signed by this issuer's key; claims override the defaults (iss, exp in 5 minutes). */
  sign(claims: JWTPayload, options?: { key?: KeyObject }): Promise<string>;
  requests: string[];
  close(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const dir = scratchDir('oidc');
  seedTestCa(dir);
  const tls = await ensureDevTls(dir, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'test-key-1';
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const requests: string[] = [];
  let issuer = '';
  const server = https.createServer({ cert: tls.cert, key: tls.key }, (request, response) => {
    requests.push(request.url ?? '');
    const send = (body: unknown) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (request.url === '/.well-known/openid-configuration') send({ issuer, jwks_uri: `${issuer}/keys` });
    else if (request.url === '/keys') send({ keys: [jwk] });
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    requests,
    sign: (claims, options = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, iat: now, nbf: now, exp: now + 300, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .sign(options.key ?? privateKey);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
