import { BadParameter } from '../../errors/index.js';
import { PEM_CONTENT_TYPE } from './content-types.js';
import type { CertificateBundleParts } from './bundle.js';
import { decodePem } from './pem.js';
import { decodePkcs12 } from './pkcs12-decode.js';

export type ImportedBundle = CertificateBundleParts & { format: 'pkcs12' | 'pem' };

const PEM_MARKER = '-----BEGIN ';
const DER_SEQUENCE_TAG = 0x30;
/** Standard or URL-safe base64, as clients send it, possibly wrapped in lines. */
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * Recognises an import value by its content, since clients disagree on the encoding: the SDKs
 * send PKCS#12 as base64 and PEM as text, and some base64 the PEM too. The content type (the
 * policy's, if any) only words the error when nothing is recognised.
 */
export function decodeImportValue(
  value: string,
  password?: string,
  contentTypeHint?: string,
): ImportedBundle {
  if (value.includes(PEM_MARKER)) return { ...decodePem(value, password), format: 'pem' };
  const bytes = decodeBase64(value);
  if (bytes !== undefined) {
    const text = bytes.toString('latin1');
    if (text.includes(PEM_MARKER)) return { ...decodePem(text, password), format: 'pem' };
    if (bytes[0] === DER_SEQUENCE_TAG) return { ...decodePkcs12(bytes, password), format: 'pkcs12' };
  }
  throw new BadParameter(
    contentTypeHint === PEM_CONTENT_TYPE
      ? 'The certificate value is not PEM: it must hold -----BEGIN CERTIFICATE----- and private key blocks.'
      : 'The certificate value is neither a base64-encoded PKCS#12 (PFX) file nor PEM.',
  );
}

function decodeBase64(value: string): Buffer | undefined {
  const compact = value.replace(/\s+/g, '');
  if (!BASE64.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}
