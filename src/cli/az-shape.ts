import { asRecord } from './output.js';

/**
 * Key Vault's wire JSON in the shape `az keyvault` prints it, so `--query` expressions written
 * for az work here: `attributes` with ISO dates (`expires`, `notBefore`, `created`, `updated`)
 * instead of epoch seconds (`exp`, `nbf`, ...), a `name` taken from the id, deletion dates as ISO
 * text, and a certificate's thumbprint as hex (`x509ThumbprintHex`).
 */

const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  exp: 'expires',
  nbf: 'notBefore',
  created: 'created',
  updated: 'updated',
};

const DATE_FIELDS = new Set(['deletedDate', 'scheduledPurgeDate']);

/** An epoch-seconds time as az prints a Python datetime: `2025-01-02T03:04:05+00:00`. */
export function isoDate(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

/** Any Key Vault object (bundle, list item, deleted item, policy) in az's shape. */
export function azShape(value: unknown): Record<string, unknown> {
  const wire = asRecord(value);
  const shaped: Record<string, unknown> = {};
  for (const [field, fieldValue] of Object.entries(wire)) {
    if (field === 'attributes') shaped[field] = azAttributes(fieldValue);
    else if (DATE_FIELDS.has(field) && typeof fieldValue === 'number') shaped[field] = isoDate(fieldValue);
    else if (field === 'x5t' && typeof fieldValue === 'string')
      shaped['x509ThumbprintHex'] = Buffer.from(fieldValue, 'base64url').toString('hex').toUpperCase();
    else if (field === 'policy') shaped[field] = azShape(fieldValue);
    else shaped[field] = fieldValue;
  }
  const name = nameOf(wire);
  if (name !== undefined) shaped['name'] = name;
  return shaped;
}

function azAttributes(value: unknown): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const [field, fieldValue] of Object.entries(asRecord(value))) {
    const renamed = ATTRIBUTE_NAMES[field];
    if (renamed !== undefined && typeof fieldValue === 'number') attributes[renamed] = isoDate(fieldValue);
    else attributes[field] = fieldValue;
  }
  return attributes;
}

/** The object's name: the path segment after the collection in its id (or a key's kid). */
function nameOf(wire: Record<string, unknown>): string | undefined {
  const id = wire['id'] ?? wire['kid'] ?? asRecord(wire['key'])['kid'];
  if (typeof id !== 'string') return undefined;
  try {
    const segments = new URL(id).pathname.split('/');
    return segments[2] === undefined || segments[2] === '' ? undefined : decodeURIComponent(segments[2]);
  } catch {
    return undefined;
  }
}

/** The version in an object id (`.../secrets/name/VERSION`), for tables. */
export function versionOf(id: unknown): string | undefined {
  if (typeof id !== 'string') return undefined;
  const segments = id.split('/');
  return segments.length > 5 ? segments[5] : undefined;
}
