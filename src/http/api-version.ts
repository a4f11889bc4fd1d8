import { BadParameter } from '../errors/index.js';

/** The data-plane api-versions Coffer answers (CONTRACT section 5). */
export const SUPPORTED_API_VERSIONS: ReadonlySet<string> = new Set([
  '7.0',
  '7.1',
  '7.2',
  '7.3',
  '7.4',
  '7.5',
  '7.6',
  '2025-07-01',
  '2026-04-01',
]);

export function checkApiVersion(query: Record<string, unknown>): string {
  const version = query['api-version'];
  if (typeof version !== 'string' || version === '') {
    throw new BadParameter(
      'The api-version query parameter is missing. Add ?api-version=7.6 (or another supported version).',
    );
  }
  if (!SUPPORTED_API_VERSIONS.has(version)) {
    throw new BadParameter(
      `The api-version '${version.slice(0, 40)}' is not supported. Supported versions: ${[...SUPPORTED_API_VERSIONS].join(', ')}.`,
    );
  }
  return version;
}
