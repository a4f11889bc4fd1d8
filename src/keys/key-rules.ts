import type { KeyPlacement } from '../crypto/keys/provider.js';
import type { Curve, KeySpec } from '../crypto/keys/types.js';
import type { VaultRecord } from '../vaults/types.js';
import { CURVES } from '../crypto/keys/types.js';
import { BadParameter, Forbidden } from '../errors/index.js';
import { checkNoControlCharacters, validateCommonProperties } from '../objects/validation.js';
import {
  type AzureKeyType,
  KEY_OPERATIONS,
  type KeyOperation,
  type KeyProperties,
  type KeyVersionRecord,
} from './types.js';

const KEY_TYPES: readonly AzureKeyType[] = ['RSA', 'RSA-HSM', 'EC', 'EC-HSM', 'oct', 'oct-HSM'];
const RSA_SIZES = [2048, 3072, 4096];
const OCT_SIZES = [128, 192, 256];

/** The key type the provider works with: RSA-HSM is an RSA key, held in the HSM. */
export function baseKeyType(kty: AzureKeyType): KeySpec['kty'] {
  return kty.replace('-HSM', '') as KeySpec['kty'];
}

export const isHsmType = (kty: string) => kty.endsWith('-HSM');

/**
 * Where a new version of an `kty` key goes. Only premium vaults hold -HSM keys, and they hold
 * them in the HSM; a standard vault refuses them with Azure's error.
 */
export function placementFor(vault: VaultRecord, kty: string, name: string): KeyPlacement {
  const hsm = isHsmType(kty);
  if (hsm && vault.sku !== 'premium') {
    throw new BadParameter(
      'Hardware key operation not allowed on standard vault. Create HSM keys (RSA-HSM, EC-HSM, oct-HSM) in a premium vault: coffer vault create NAME --sku premium.',
    );
  }
  return { hsm, label: `${vault.name}/${name}` };
}

/**
 * A key that may `import` is a BYOK key-exchange key: an RSA-HSM key whose only operation is
 * import, for good. Any other operation on it (decrypt, unwrapKey) would let its holder open
 * the AES key of a transfer blob and read the key it carries.
 */
export function checkImportKeyOps(
  kty: AzureKeyType,
  keyOps: KeyOperation[],
  previous?: KeyOperation[],
): void {
  const wasKek = previous?.includes('import') ?? false;
  if (!keyOps.includes('import') && !wasKek) return;
  if (kty !== 'RSA-HSM' || keyOps.length !== 1 || keyOps[0] !== 'import' || (previous && !wasKek)) {
    throw new BadParameter(
      'key_ops import marks a BYOK key-exchange key: it must be an RSA-HSM key created with key_ops ["import"] and no other operation, and its key_ops cannot change.',
    );
  }
}

/** The operations Key Vault allows by default on a new key of each type. */
export function defaultKeyOps(kty: AzureKeyType): KeyOperation[] {
  switch (baseKeyType(kty)) {
    case 'RSA':
      return ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'];
    case 'EC':
      return ['sign', 'verify'];
    case 'oct':
      return ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'];
  }
}

export function validateKeyType(kty: unknown): AzureKeyType {
  if (!KEY_TYPES.includes(kty as AzureKeyType)) {
    throw new BadParameter(`kty must be one of ${KEY_TYPES.join(', ')}; got '${String(kty).slice(0, 20)}'.`);
  }
  return kty as AzureKeyType;
}

/** Turns create parameters into a provider spec, with Azure's defaults (RSA 2048, P-256, oct 256). */
export function keySpecFor(request: {
  kty: AzureKeyType;
  keySize?: number;
  curve?: Curve;
  publicExponent?: number;
}): KeySpec {
  const kty = baseKeyType(request.kty);
  if (kty === 'EC') {
    const curve = request.curve ?? 'P-256';
    if (!CURVES.includes(curve)) throw new BadParameter(`crv must be one of ${CURVES.join(', ')}.`);
    if (request.keySize !== undefined)
      throw new BadParameter('key_size does not apply to EC keys; choose the curve with crv.');
    return { kty, curve };
  }
  if (request.curve !== undefined) throw new BadParameter(`crv applies only to EC keys, not ${request.kty}.`);
  const sizes = kty === 'RSA' ? RSA_SIZES : OCT_SIZES;
  const size = request.keySize ?? (kty === 'RSA' ? 2048 : 256);
  if (!sizes.includes(size))
    throw new BadParameter(`key_size for ${request.kty} keys must be one of ${sizes.join(', ')}.`);
  if (request.publicExponent !== undefined && (kty !== 'RSA' || request.publicExponent !== 65537)) {
    throw new BadParameter('public_exponent may only be 65537, and only for RSA keys.');
  }
  return { kty, size, publicExponent: request.publicExponent };
}

export function validateKeyProperties(properties: KeyProperties): void {
  validateCommonProperties(properties);
  const releaseContentType = properties.releasePolicy?.contentType;
  if (releaseContentType !== undefined)
    checkNoControlCharacters(releaseContentType, 'release_policy.contentType');
  for (const op of properties.keyOps ?? []) {
    if (!KEY_OPERATIONS.includes(op))
      throw new BadParameter(
        `key_ops may contain only ${KEY_OPERATIONS.join(', ')}; got '${String(op).slice(0, 20)}'.`,
      );
  }
  if (properties.exportable && !properties.releasePolicy) {
    throw new BadParameter('An exportable key needs a release_policy.');
  }
}

/**
 * Key Vault's gate for cryptographic operations: the key must be enabled, allow the operation in
 * key_ops, and (for operations that make new ciphertext or signatures) be inside its nbf/exp
 * window. decrypt, unwrapKey and verify stay possible outside the window, so data protected
 * before expiry can still be recovered.
 */
export function checkOperationAllowed(
  record: KeyVersionRecord,
  operation: KeyOperation,
  nowSeconds: number,
): void {
  if (!record.enabled)
    throw new Forbidden(`Operation ${operation} is not allowed on a disabled key.`, 'KeyDisabled');
  if (!record.keyOps.includes(operation)) {
    throw new Forbidden(
      `Operation ${operation} is not permitted on this key: its key_ops are ${record.keyOps.join(', ') || 'empty'}.`,
      'KeyOperationForbidden',
    );
  }
  const worksOutsideWindow = operation === 'decrypt' || operation === 'unwrapKey' || operation === 'verify';
  if (worksOutsideWindow) return;
  if (record.nbf !== undefined && nowSeconds < record.nbf) {
    throw new Forbidden(`Operation ${operation} is not allowed on a key that is not yet valid (nbf).`);
  }
  if (record.exp !== undefined && nowSeconds >= record.exp) {
    throw new Forbidden(`Operation ${operation} is not allowed on an expired key.`);
  }
}
