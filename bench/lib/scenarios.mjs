// The measured API calls: creates what they need (a secret, keys, a ciphertext) once, then
// describes each scenario as a load-generator target. The secret's value is 32 bytes, like a
// typical connection string fragment or API key.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { expectOk } from './https-client.mjs';
import { tokenForm, tokenPath } from './coffer.mjs';

const API = 'api-version=7.6';
export const SECRET_VALUE = 'bench-value-0123456789abcdef0123';
export const SCENARIO_NAMES = [
  'secret-get',
  'secret-set',
  'secret-list',
  'token-issue',
  'rsa2048-sign',
  'es256-sign',
  'rsa-oaep-decrypt',
  'aes-gcm-encrypt',
  'hsm-rsa2048-sign',
  'hsm-es256-sign',
];
/** The premium vault whose -HSM keys live in the bench's SoftHSM2 token; reached by its host name. */
const HSM_VAULT = 'bench-hsm';

function jsonCall(client, token, method, path, body, host) {
  return expectOk(client, method, `${path}?${API}`, {
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...(host && { host }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function createKey(client, token, name, spec, host) {
  const created = await jsonCall(client, token, 'POST', `/keys/${name}/create`, spec, host);
  return created.key.kid.split('/').pop();
}

const hsmHost = (server) => `${HSM_VAULT}.vault.localhost:${server.port}`;

/** Creates the fixtures; returns {fixtures, secretGetBytes}. */
export async function prepareFixtures(server, token) {
  const { client } = server;
  await jsonCall(client, token, 'PUT', '/secrets/bench-read', { value: SECRET_VALUE });
  for (let i = 0; i < 30; i++) {
    await jsonCall(client, token, 'PUT', `/secrets/bench-list-${i}`, { value: SECRET_VALUE });
  }
  const got = await client.request('GET', `/secrets/bench-read/?${API}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const rsa = await createKey(client, token, 'bench-rsa', { kty: 'RSA', key_size: 2048 });
  const ec = await createKey(client, token, 'bench-ec', { kty: 'EC', crv: 'P-256' });
  const oct = await createKey(client, token, 'bench-aes', { kty: 'oct', key_size: 256 });
  // The admin API (bare host) makes the premium vault; its keys are reached by its own host name.
  await expectOk(client, 'POST', '/coffer/vaults', {
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: HSM_VAULT, sku: 'premium' }),
  });
  const host = hsmHost(server);
  const hsmRsa = await createKey(client, token, 'bench-rsa', { kty: 'RSA-HSM', key_size: 2048 }, host);
  const hsmEc = await createKey(client, token, 'bench-ec', { kty: 'EC-HSM', crv: 'P-256' }, host);
  const digest = randomBytes(32).toString('base64url');
  const encrypted = await jsonCall(client, token, 'POST', `/keys/bench-rsa/${rsa}/encrypt`, {
    alg: 'RSA-OAEP',
    value: digest,
  });
  return {
    fixtures: { rsa, ec, oct, hsmRsa, hsmEc, digest, ciphertext: encrypted.value },
    secretGetBytes: Buffer.byteLength(got.text),
  };
}

/** The load-generator target of every scenario; `tag` keeps set names unique across runs. */
export function scenarioTargets(server, token, fixtures, tag) {
  const auth = { Authorization: `Bearer ${token}` };
  const json = { ...auth, 'Content-Type': 'application/json' };
  const base = { port: server.port };
  const post = (path, body) => ({ ...base, method: 'POST', path: `${path}?${API}`, headers: json, body });
  const { rsa, ec, oct, hsmRsa, hsmEc, digest, ciphertext } = fixtures;
  const hsm = (path, body) => {
    const target = post(path, body);
    return { ...target, headers: { ...target.headers, Host: hsmHost(server) } };
  };
  return {
    'secret-get': { ...base, path: `/secrets/bench-read/?${API}`, headers: auth },
    'secret-set': {
      ...base,
      method: 'PUT',
      path: `/secrets/set-${tag}-{n}?${API}`,
      headers: json,
      body: JSON.stringify({ value: SECRET_VALUE }),
    },
    'secret-list': { ...base, path: `/secrets?maxresults=25&${API}`, headers: auth },
    'token-issue': {
      ...base,
      method: 'POST',
      path: tokenPath(server.dev),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: tokenForm(server.dev),
    },
    'rsa2048-sign': post(`/keys/bench-rsa/${rsa}/sign`, JSON.stringify({ alg: 'RS256', value: digest })),
    'es256-sign': post(`/keys/bench-ec/${ec}/sign`, JSON.stringify({ alg: 'ES256', value: digest })),
    'rsa-oaep-decrypt': post(
      `/keys/bench-rsa/${rsa}/decrypt`,
      JSON.stringify({ alg: 'RSA-OAEP', value: ciphertext }),
    ),
    'aes-gcm-encrypt': post(
      `/keys/bench-aes/${oct}/encrypt`,
      JSON.stringify({ alg: 'A256GCM', value: digest }),
    ),
    'hsm-rsa2048-sign': hsm(
      `/keys/bench-rsa/${hsmRsa}/sign`,
      JSON.stringify({ alg: 'RS256', value: digest }),
    ),
    'hsm-es256-sign': hsm(`/keys/bench-ec/${hsmEc}/sign`, JSON.stringify({ alg: 'ES256', value: digest })),
  };
}

/** Which baselines each scenario is compared with, and the openssl figure it maps to. */
export const BASELINES_FOR = {
  'secret-get': { ceiling: true, barbican: 'read' },
  'secret-set': { ceiling: true, barbican: 'create' },
  'secret-list': { ceiling: true },
  'token-issue': { ceiling: true },
  'rsa2048-sign': { ceiling: true, openssl: 'rsa2048-sign' },
  'es256-sign': { ceiling: true, openssl: 'ecdsa-p256-sign' },
  'rsa-oaep-decrypt': { ceiling: true, openssl: 'rsa2048-decrypt' },
  'aes-gcm-encrypt': { ceiling: true, openssl: 'aes-256-gcm' },
  'hsm-rsa2048-sign': { ceiling: true, openssl: 'rsa2048-sign' },
  'hsm-es256-sign': { ceiling: true, openssl: 'ecdsa-p256-sign' },
};
