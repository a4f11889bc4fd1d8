import { createHash } from 'node:crypto';
import { html } from '../../lib/html.js';
import { csrfField, lastSegment, vaultPath, when, dataTable } from '../layout.js';
import {
  type ConsoleContext,
  type ConsolePage,
  outcome,
  type PageResult,
  refusal,
  firstPage,
} from '../page-types.js';
import { rotationPolicySection, saveRotationPolicy } from './rotation-policy.js';

interface KeyItem {
  kid: string;
  attributes?: { enabled?: boolean; created?: number; updated?: number; exp?: number };
  tags?: Record<string, string>;
}
interface KeyBundle {
  key: { kid: string; kty: string; key_ops?: string[]; crv?: string; n?: string };
  attributes?: KeyItem['attributes'];
}

/** Key types the create form offers, as Azure names them. */
const KEY_TYPES: Record<string, { kty: string; key_size?: number; crv?: string }> = {
  'RSA-2048': { kty: 'RSA', key_size: 2048 },
  'RSA-3072': { kty: 'RSA', key_size: 3072 },
  'RSA-4096': { kty: 'RSA', key_size: 4096 },
  'EC-P-256': { kty: 'EC', crv: 'P-256' },
  'EC-P-384': { kty: 'EC', crv: 'P-384' },
};
/** The signature algorithm for a test digest: SHA-256 digests, so RS256 or ES256 (P-384 takes ES384 over SHA-384). */
const SIGN_ALGORITHM: Record<string, { alg: string; hash: string }> = {
  RSA: { alg: 'RS256', hash: 'sha256' },
  'RSA-HSM': { alg: 'RS256', hash: 'sha256' },
  'P-256': { alg: 'ES256', hash: 'sha256' },
  'P-384': { alg: 'ES384', hash: 'sha384' },
};

export function keyPages(): ConsolePage[] {
  return [
    { method: 'GET', url: '/vaults/:vault/keys', handler: listKeys },
    { method: 'POST', url: '/vaults/:vault/keys', handler: createKey },
    { method: 'GET', url: '/vaults/:vault/keys/:name', handler: (context) => keyDetail(context) },
    { method: 'POST', url: '/vaults/:vault/keys/:name/rotate', handler: rotateKey },
    { method: 'POST', url: '/vaults/:vault/keys/:name/rotation-policy', handler: saveRotationPolicy },
    { method: 'POST', url: '/vaults/:vault/keys/:name/sign', handler: signAndVerify },
  ];
}

async function listKeys(context: ConsoleContext): Promise<PageResult> {
  const { vault } = context.params as { vault: string };
  const listed = await firstPage<KeyItem>(context, vault, '/keys');
  const rows = listed.ok
    ? listed.body.value.map((item) => {
        const name = lastSegment(item.kid);
        return html`<tr>
          <td><a href="${vaultPath(vault, 'keys', name)}">${name}</a></td>
          <td>${item.attributes?.enabled === false ? 'disabled' : 'enabled'}</td>
          <td>${when(item.attributes?.updated)}</td>
          <td>${when(item.attributes?.exp)}</td>
        </tr>`;
      })
    : [];
  const body = html`${listed.ok ? '' : refusal(listed, `list the keys of ${vault}`)}
    ${dataTable(['Name', 'State', 'Updated', 'Expires'], rows, 'No keys to show.')}
    <h2>Create a key</h2>
    <form method="post" action="${vaultPath(vault, 'keys')}" class="panel">
      ${csrfField(context.session)}
      <label>Name <input name="name" required maxlength="127" /></label>
      <label
        >Type
        <select name="type">
          ${Object.keys(KEY_TYPES).map((type) => html`<option>${type}</option>`)}
        </select></label
      >
      <button type="submit">Create key</button>
    </form>`;
  return { title: 'Keys', vault, current: 'keys', body, status: listed.ok ? 200 : listed.status };
}

async function createKey(context: ConsoleContext): Promise<PageResult> {
  const { vault } = context.params as { vault: string };
  const { name = '', type = '' } = context.form;
  const shape = KEY_TYPES[type];
  if (!shape)
    return {
      redirect: vaultPath(vault, 'keys'),
      flash: { kind: 'error', text: `Unknown key type ${type}.` },
    };
  const answer = await context.api({
    method: 'POST',
    vault,
    path: `/keys/${encodeURIComponent(name)}/create`,
    body: shape,
  });
  return {
    redirect: answer.ok ? vaultPath(vault, 'keys', name) : vaultPath(vault, 'keys'),
    flash: outcome(answer, `create key ${name}`, `Key ${name} created.`),
  };
}

/** Properties, versions, rotation policy, rotate, and the sign/verify form (with its result when given). */
async function keyDetail(
  context: ConsoleContext,
  signed?: { digest: string; alg: string; signature: string; verified: string },
): Promise<PageResult> {
  const { vault, name } = context.params as { vault: string; name: string };
  const path = `/keys/${encodeURIComponent(name)}`;
  const key = await context.api<KeyBundle>({ method: 'GET', vault, path });
  if (!key.ok)
    return {
      title: `Key ${name}`,
      vault,
      current: 'keys',
      status: key.status,
      body: refusal(key, `read key ${name}`),
    };
  const versions = await firstPage<KeyItem>(context, vault, `${path}/versions`);
  const { key: jwk, attributes } = key.body;
  const size = jwk.n ? `${Buffer.from(jwk.n, 'base64url').length * 8} bits` : (jwk.crv ?? '');
  const versionRows = versions.ok
    ? [...versions.body.value]
        .sort((a, b) => (b.attributes?.created ?? 0) - (a.attributes?.created ?? 0))
        .map(
          (item) =>
            html`<tr>
              <td class="mono">${lastSegment(item.kid)}</td>
              <td>${when(item.attributes?.created)}</td>
              <td>${when(item.attributes?.exp)}</td>
            </tr>`,
        )
    : [];
  const body = html`<dl class="props">
      <dt>Key id</dt>
      <dd class="mono">${jwk.kid}</dd>
      <dt>Type</dt>
      <dd>${jwk.kty} ${size}</dd>
      <dt>Operations</dt>
      <dd>${(jwk.key_ops ?? []).join(', ')}</dd>
      <dt>Enabled</dt>
      <dd>${attributes?.enabled === false ? 'no' : 'yes'}</dd>
      <dt>Created</dt>
      <dd>${when(attributes?.created)}</dd>
      <dt>Expires</dt>
      <dd>${when(attributes?.exp)}</dd>
    </dl>
    <form method="post" action="${vaultPath(vault, 'keys', name, 'rotate')}" class="panel">
      ${csrfField(context.session)}
      <p>Rotating makes a new version of the key; earlier versions stay for decrypting and verifying.</p>
      <button type="submit">Rotate now</button>
    </form>
    <h2>Versions</h2>
    ${
      versions.ok
        ? html`<table>
            <thead>
              <tr>
                <th>Version</th>
                <th>Created</th>
                <th>Expires</th>
              </tr>
            </thead>
            <tbody>
              ${versionRows}
            </tbody>
          </table>`
        : refusal(versions, `list the versions of ${name}`)
    }
    ${await rotationPolicySection(context, vault, name)}
    <h2>Sign and verify a test digest</h2>
    <form method="post" action="${vaultPath(vault, 'keys', name, 'sign')}" class="panel">
      ${csrfField(context.session)}
      <label
        >Text to hash and sign
        <input name="text" required maxlength="4096" value="hello from the Coffer console"
      /></label>
      <button type="submit">Sign and verify</button>
    </form>
    ${
      signed
        ? html`<dl class="props" id="sign-result">
            <dt>Algorithm</dt>
            <dd>${signed.alg}</dd>
            <dt>Digest</dt>
            <dd class="mono" id="digest">${signed.digest}</dd>
            <dt>Signature</dt>
            <dd class="mono" id="signature">${signed.signature}</dd>
            <dt>Verified by the vault</dt>
            <dd id="verified">${signed.verified}</dd>
          </dl>`
        : ''
    }`;
  return { title: `Key ${name}`, vault, current: 'keys', body };
}

async function rotateKey(context: ConsoleContext): Promise<PageResult> {
  const { vault, name } = context.params as { vault: string; name: string };
  const answer = await context.api<KeyBundle>({
    method: 'POST',
    vault,
    path: `/keys/${encodeURIComponent(name)}/rotate`,
  });
  const version = answer.ok ? lastSegment(answer.body.key.kid) : '';
  return {
    redirect: vaultPath(vault, 'keys', name),
    flash: outcome(answer, `rotate ${name}`, `Key ${name} rotated: new version ${version}.`),
  };
}

/** Hashes the text here, has the vault sign the digest, then has it verify the signature: two audited calls. */
async function signAndVerify(context: ConsoleContext): Promise<PageResult> {
  const { vault, name } = context.params as { vault: string; name: string };
  const key = await context.api<KeyBundle>({
    method: 'GET',
    vault,
    path: `/keys/${encodeURIComponent(name)}`,
  });
  if (!key.ok)
    return { redirect: vaultPath(vault, 'keys', name), flash: outcome(key, `read key ${name}`, '') };
  const { kty, crv, kid } = key.body.key;
  const algorithm = SIGN_ALGORITHM[crv ?? kty];
  if (!algorithm)
    return {
      redirect: vaultPath(vault, 'keys', name),
      flash: { kind: 'error', text: `A ${crv ?? kty} key has no test signature here.` },
    };
  const digest = createHash(algorithm.hash)
    .update(context.form.text ?? '')
    .digest('base64url');
  const versionPath = `/keys/${encodeURIComponent(name)}/${lastSegment(kid)}`;
  const signed = await context.api<{ value: string }>({
    method: 'POST',
    vault,
    path: `${versionPath}/sign`,
    body: { alg: algorithm.alg, value: digest },
  });
  if (!signed.ok)
    return { redirect: vaultPath(vault, 'keys', name), flash: outcome(signed, `sign with ${name}`, '') };
  const verified = await context.api<{ value: boolean }>({
    method: 'POST',
    vault,
    path: `${versionPath}/verify`,
    body: { alg: algorithm.alg, digest, value: signed.body.value },
  });
  const verdict = verified.ok
    ? verified.body.value
      ? 'valid'
      : 'INVALID'
    : `not checked: ${verified.error ?? ''}`;
  return keyDetail(context, { digest, alg: algorithm.alg, signature: signed.body.value, verified: verdict });
}
