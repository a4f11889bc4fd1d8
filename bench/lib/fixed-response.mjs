// The fixed response of the reference servers: a JSON body of exactly BODY_BYTES and the headers
// of a Coffer secret get.
import { Buffer } from 'node:buffer';

export function fixedResponse(bodyBytes) {
  const prefix = '{"value":"';
  const suffix = '"}';
  const body = `${prefix}${'x'.repeat(Math.max(0, bodyBytes - prefix.length - suffix.length))}${suffix}`;
  const headers = {
    'strict-transport-security': 'max-age=31536000',
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
  };
  return { body, headers };
}
