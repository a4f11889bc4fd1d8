import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { DevServer } from '../helpers/server-process.js';

/**
 * Tokens signed with the installation's own key that must each be refused: what no forger
 * without the key could make is exactly what tests the checks after the signature (expiry, not
 * before, audience, issuer, principal, credential). One more is signed by another key, one not
 * at all. `objectId` is a principal that exists, so each token is wrong in one way only.
 */
export async function forgeTokens(server: DevServer, key: KeyObject, objectId: string) {
  const { facts } = server;
  const issuer = `${facts.authorityHost}/${facts.tenantId}/v2.0`;
  const audience = `https://vault.localhost:${server.port}`;
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT({ tid: facts.tenantId, ver: '2.0', ...claims })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .sign(key);
  const valid = { iss: issuer, aud: audience, iat: now, nbf: now, exp: now + 3600, oid: objectId };
  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const unsignedHeader = Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url');
  return {
    expired: await sign({ ...valid, iat: now - 7200, nbf: now - 7200, exp: now - 3600 }),
    notYetValid: await sign({ ...valid, nbf: now + 3600, exp: now + 7200 }),
    otherAudience: await sign({ ...valid, aud: 'https://storage.azure.com' }),
    audienceList: await sign({ ...valid, aud: [audience, 'https://other.example'] }),
    otherIssuer: await sign({ ...valid, iss: 'https://login.microsoftonline.com/common/v2.0' }),
    unknownPrincipal: await sign({ ...valid, oid: crypto.randomUUID() }),
    prototypePrincipal: await sign({ ...valid, oid: '__proto__' }),
    objectPrincipal: await sign({ ...valid, oid: { toString: 'x' } }),
    revokedCredential: await sign({ ...valid, coffer_cred: crypto.randomUUID() }),
    noExpiry: await sign({ ...valid, exp: undefined }),
    otherKey: await new SignJWT(valid).setProtectedHeader({ alg: 'RS256' }).sign(otherKey),
    unsigned: `${unsignedHeader}.${Buffer.from(JSON.stringify(valid)).toString('base64url')}.`,
  };
}
