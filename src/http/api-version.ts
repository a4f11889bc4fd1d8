import { BadParameter } from '../errors/index.js';

/**
 * Every data-plane api-version Coffer answers (CONTRACT section 5), with where it was seen: a
 * released SDK that sends it by default, or the Azure REST API spec folder that defines it
 * (paths under azure-rest-api-specs `specification/keyvault/data-plane/`). Clients pin an
 * api-version at release and keep sending it for years, so refusing an old or preview one breaks
 * a working client; the shapes Coffer serves are the same under all of them.
 */
export const API_VERSIONS: ReadonlyArray<{ version: string; preview: boolean; seenIn: string }> = [
  { version: '2015-06-01', preview: false, seenIn: 'Microsoft.KeyVault/stable/2015-06-01/keyvault.json' },
  {
    version: '2016-10-01',
    preview: false,
    seenIn:
      'Microsoft.KeyVault/stable/2016-10-01/keyvault.json; azure-keyvault-secrets 4.7.0b1 ApiVersion.V2016_10_01 (Debian 12 python3-azure)',
  },
  { version: '7.0', preview: false, seenIn: '@azure/keyvault-keys 4.0.0 (default)' },
  { version: '7.1-preview', preview: true, seenIn: '@azure/keyvault-keys 4.1.0-preview.1 (default)' },
  { version: '7.1', preview: false, seenIn: '@azure/keyvault-keys 4.1.0 (default)' },
  { version: '7.2-preview', preview: true, seenIn: 'azure-keyvault-keys 4.4.0b1 (Python, default)' },
  { version: '7.2', preview: false, seenIn: 'azure-keyvault-keys 4.4.0 (Python, default)' },
  {
    version: '7.3-preview',
    preview: true,
    seenIn:
      'azure-keyvault-keys 4.5.0b1 (Python), @azure/keyvault-keys 4.4.0-beta.1, Azure.Security.KeyVault.Keys 4.3.0-beta.1 (defaults)',
  },
  {
    version: '7.3',
    preview: false,
    seenIn: 'azure-keyvault-secrets 4.7.0b1 (Debian 12 python3-azure, default)',
  },
  {
    version: '7.4-preview.1',
    preview: true,
    seenIn:
      'azure-keyvault-keys 4.8.0b3 and azure-keyvault-administration 4.3.0b2 (Debian 12 python3-azure, defaults); Azure.Security.KeyVault.Keys 4.5.0-beta.1',
  },
  { version: '7.4', preview: false, seenIn: 'Azure.Security.KeyVault.Keys 4.5.0 (default)' },
  {
    version: '7.5-preview.1',
    preview: true,
    seenIn:
      'Azure.Security.KeyVault.Keys 4.6.0-beta.1, .Secrets 4.6.0-beta.1, .Administration 4.4.0-beta.1 (defaults)',
  },
  { version: '7.5', preview: false, seenIn: 'Azure.Security.KeyVault.Keys 4.6.0 (default)' },
  { version: '7.6-preview.1', preview: true, seenIn: 'Microsoft.KeyVault/preview/7.6-preview.1/' },
  {
    version: '7.6-preview.2',
    preview: true,
    seenIn:
      'Azure.Security.KeyVault.Keys 4.8.0-beta.1, .Secrets 4.8.0-beta.1, .Administration 4.6.0-beta.1 (defaults); Keys/preview/7.6-preview.2/',
  },
  { version: '7.6', preview: false, seenIn: 'Azure.Security.KeyVault.Keys 4.8.0 (default)' },
  {
    version: '2025-06-01-preview',
    preview: true,
    seenIn: '{Keys,Secrets,Certificates,Administration}/preview/2025-06-01-preview/',
  },
  {
    version: '2025-07-01-preview',
    preview: true,
    seenIn: 'Microsoft.KeyVault/preview/2025-07-01-preview/keys.json',
  },
  {
    version: '2025-07-01',
    preview: false,
    seenIn:
      '@azure/keyvault-secrets 4.11.2, @azure/keyvault-keys 4.10.2, @azure/keyvault-certificates 4.10.3 (defaults)',
  },
  {
    version: '2026-01-01-preview',
    preview: true,
    seenIn:
      'Azure.Security.KeyVault.Keys 4.11.0-beta.1, .Administration 4.9.0-beta.1 (defaults); Keys/preview/2026-01-01-preview/',
  },
  {
    version: '2026-03-01-preview',
    preview: true,
    seenIn: '{Keys,Secrets,Certificates,Administration}/preview/2026-03-01-preview/',
  },
  { version: '2026-04-01', preview: false, seenIn: '@azure/keyvault-secrets 4.12.0 (default)' },
  {
    version: '2026-05-01-preview',
    preview: true,
    seenIn: '{Keys,Secrets,Certificates,Administration}/preview/2026-05-01-preview/',
  },
  {
    version: '2026-07-01-preview',
    preview: true,
    seenIn: '{Keys,Secrets,Certificates,Administration}/preview/2026-07-01-preview/',
  },
];

const SUPPORTED: ReadonlySet<string> = new Set(API_VERSIONS.map((entry) => entry.version));
const GENERALLY_AVAILABLE = API_VERSIONS.filter((entry) => !entry.preview).map((entry) => entry.version);

export function checkApiVersion(query: Record<string, unknown>): string {
  const version = query['api-version'];
  if (typeof version !== 'string' || version === '') {
    throw new BadParameter(
      'The api-version query parameter is missing. Add ?api-version=7.6 (or another supported version).',
    );
  }
  if (!SUPPORTED.has(version)) {
    throw new BadParameter(
      `The api-version '${version.slice(0, 40)}' is not supported. Supported versions: ${GENERALLY_AVAILABLE.join(', ')}, and the previews released SDKs send (7.4-preview.1 and the like).`,
    );
  }
  return version;
}
