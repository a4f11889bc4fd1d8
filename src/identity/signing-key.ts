import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { readJson, type SecureStore, writeJson } from '../barrier/secure-store.js';

const SIGNING_KEY_PATH = 'token-signing-key';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JWK;
}

/**
 * The key that signs access tokens (RS256, as Entra ID uses). Its private half lives only in
 * the barrier and in memory while unsealed.
 */
export async function createSigningKey(store: SecureStore): Promise<void> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeJson(store, SIGNING_KEY_PATH, { pkcs8: privateKey.export({ type: 'pkcs8', format: 'pem' }) });
}

export async function loadSigningKey(store: SecureStore): Promise<SigningKey> {
  const stored = await readJson<{ pkcs8: string }>(store, SIGNING_KEY_PATH);
  if (!stored) throw new Error('the token signing key is missing from the store');
  const privateKey = createPrivateKey(stored.pkcs8);
  const publicKey = createPublicKey(privateKey);
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, publicKey, publicJwk: { ...jwk, kid, use: 'sig', alg: 'RS256' } };
}
