/**
 * The exportable forms of a certificate: PKCS#12 and PEM, both ways, and the key conversions
 * between them and the project's JWKs. Everything that fails on client input throws BadParameter
 * with a message free of key material.
 */
export type { CertificateBundleParts } from './bundle.js';
export { certificatesOfEntry } from './certificate-entry.js';
export { decodeImportValue, type ImportedBundle } from './import-value.js';
export { jwkFromPkcs8, pkcs8FromJwk, publicKeyMatches, spkiFromPublicJwk } from './keys.js';
export { decodePem, encodePem } from './pem.js';
export { decodePkcs12 } from './pkcs12-decode.js';
export { encodePkcs12 } from './pkcs12-encode.js';
export { convertSecretValue, encodeSecretValue } from './secret-value.js';
