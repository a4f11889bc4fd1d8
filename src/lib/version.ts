import { readFileSync } from 'node:fs';

/** Coffer's release (package.json's version), read once; code runs from dist/src/lib/. */
export function cofferVersion(): string {
  const manifest = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}
