import { CURVES, type Curve } from '../crypto/keys/types.js';
import { BadParameter } from '../errors/index.js';
import { fromBase64Url } from '../lib/base64.js';
import { baseKeyType, isHsmType } from './key-rules.js';
import type { AzureKeyType } from './types.js';

/**
 * Azure's BYOK key transfer blob (the `.byok` file a vendor's BYOK tool writes), which arrives
 * base64-encoded in the imported JWK's `key_hsm`:
 *
 *   {"schema_version": "1.0.0",
 *    "header": {"kid": "<KEK key id>", "alg": "dir", "enc": "CKM_RSA_AES_KEY_WRAP"},
 *    "ciphertext": "<base64url>", "generator": "<tool and source HSM>"}
 *
 * The ciphertext is RSA-OAEP-SHA1 of an ephemeral AES key under the KEK, then the target key
 * (PKCS#8 for RSA and EC, raw bytes for AES) under AES key wrap with padding.
 */
export interface TransferBlob {
  kid: string;
  ciphertext: Buffer;
}

const SCHEMA_VERSION = '1.0.0';
const ENCRYPTION = 'CKM_RSA_AES_KEY_WRAP';
/** A transfer blob of an RSA-4096 key under an RSA-4096 KEK is under 4 KB; 64 KB bounds a bad one. */
const MAX_BLOB_BYTES = 64 * 1024;

const invalid = (what: string) =>
  new BadParameter(
    `key_hsm is not a valid key transfer blob: ${what}. It must be the base64 of the .byok JSON {schema_version: "1.0.0", header: {kid, alg: "dir", enc: "CKM_RSA_AES_KEY_WRAP"}, ciphertext}.`,
  );

export function parseTransferBlob(keyHsm: unknown): TransferBlob {
  const bytes = typeof keyHsm === 'string' ? fromBase64Url(keyHsm) : undefined;
  if (!bytes || bytes.length === 0) throw invalid('not base64');
  if (bytes.length > MAX_BLOB_BYTES) throw invalid('too large');
  let blob: unknown;
  try {
    blob = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('not JSON');
  }
  const { schema_version: schema, header, ciphertext } = (blob ?? {}) as Record<string, unknown>;
  if (schema !== SCHEMA_VERSION) throw invalid(`schema_version must be "${SCHEMA_VERSION}"`);
  const { kid, alg, enc } = (header ?? {}) as Record<string, unknown>;
  if (typeof kid !== 'string' || kid.length === 0)
    throw invalid('header.kid (the key-exchange key) is missing');
  if (alg !== 'dir' || enc !== ENCRYPTION)
    throw invalid(`header.alg must be "dir" and header.enc "${ENCRYPTION}"`);
  const decoded = typeof ciphertext === 'string' ? fromBase64Url(ciphertext) : undefined;
  if (!decoded || decoded.length === 0) throw invalid('ciphertext is missing or not base64url');
  return { kid, ciphertext: decoded };
}

/** The KEK's name and version from its key id, `https://{vault}/keys/{name}[/{version}]`. */
export function kekReference(kid: string): { name: string; version?: string } {
  let path: string;
  try {
    path = new URL(kid).pathname;
  } catch {
    throw new BadParameter(
      `The key transfer blob's header.kid '${kid.slice(0, 200)}' is not a key identifier URL.`,
    );
  }
  const match = /^\/keys\/([0-9a-zA-Z-]{1,127})(?:\/([0-9a-fA-F]{32}))?\/?$/.exec(path);
  if (!match) {
    throw new BadParameter(
      `The key transfer blob's header.kid '${kid.slice(0, 200)}' does not name a key (https://{vault}/keys/{name}/{version}).`,
    );
  }
  return { name: match[1]!, version: match[2] };
}

/** The key the blob must carry, from the import request: an -HSM type, and a curve for EC. */
export function transferTarget(kty: unknown, crv: unknown): { kty: AzureKeyType; crv?: Curve } {
  const types: AzureKeyType[] = ['RSA-HSM', 'EC-HSM', 'oct-HSM'];
  if (typeof kty !== 'string' || !isHsmType(kty) || !types.includes(kty as AzureKeyType)) {
    throw new BadParameter('A BYOK import (key_hsm) needs kty RSA-HSM, EC-HSM or oct-HSM.');
  }
  if (baseKeyType(kty as AzureKeyType) !== 'EC') return { kty: kty as AzureKeyType };
  if (!CURVES.includes(crv as Curve)) {
    throw new BadParameter(`A BYOK import of an EC-HSM key needs crv, one of ${CURVES.join(', ')}.`);
  }
  return { kty: kty as AzureKeyType, crv: crv as Curve };
}
