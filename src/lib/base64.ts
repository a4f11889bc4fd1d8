/** Base64url without padding, the encoding of Key Vault's binary JSON fields. */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

const BASE64URL_PATTERN = /^[A-Za-z0-9_-]*={0,2}$/;

/** Decodes base64url (tolerating padding and standard-alphabet input, as Azure does); undefined if malformed. */
export function fromBase64Url(text: string): Buffer | undefined {
  const normalized = text.replace(/\+/g, '-').replace(/\//g, '_');
  if (!BASE64URL_PATTERN.test(normalized)) return undefined;
  return Buffer.from(normalized.replace(/=+$/, ''), 'base64url');
}
