import { BadParameter } from '../../errors/index.js';
import { PEM_CONTENT_TYPE, PKCS12_CONTENT_TYPE } from './content-types.js';
import type { CertificateBundleParts } from './bundle.js';
import { decodeImportValue } from './import-value.js';
import { encodePem } from './pem.js';
import { encodePkcs12 } from './pkcs12-encode.js';

/** A certificate secret's value in its content type: base64 PKCS#12 (no password) or PEM text. */
export function encodeSecretValue(contentType: string, parts: CertificateBundleParts): string {
  return contentType === PKCS12_CONTENT_TYPE ? encodePkcs12(parts).toString('base64') : encodePem(parts);
}

/**
 * A certificate secret's value in another content type (get-secret's `outContentType`): the same
 * certificates and key, re-encoded.
 */
export function convertSecretValue(value: string, outContentType: string): string {
  if (outContentType !== PKCS12_CONTENT_TYPE && outContentType !== PEM_CONTENT_TYPE) {
    throw new BadParameter(`outContentType must be ${PKCS12_CONTENT_TYPE} or ${PEM_CONTENT_TYPE}.`);
  }
  return encodeSecretValue(outContentType, decodeImportValue(value));
}
