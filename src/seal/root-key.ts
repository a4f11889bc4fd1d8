import { openAesGcm, sealAesGcm } from '../crypto/aes-gcm.js';
import { WRAPPED_ROOT_KEY_PATH } from './types.js';

/** Bound to its storage path, as every barrier record is: a wrapped root key moved elsewhere does not open. */
const ROOT_KEY_AAD = Buffer.from(WRAPPED_ROOT_KEY_PATH);

/** The root key wrapped under the unseal key, as stored at `core/root-key` (and carried by whole backups). */
export function wrapRootKey(unsealKey: Buffer, rootKey: Buffer): Buffer {
  return sealAesGcm(unsealKey, rootKey, ROOT_KEY_AAD);
}

/** The root key, or undefined when this unseal key is not the one that wrapped it. */
export function unwrapRootKey(unsealKey: Buffer, wrapped: Buffer): Buffer | undefined {
  return openAesGcm(unsealKey, wrapped, ROOT_KEY_AAD);
}
