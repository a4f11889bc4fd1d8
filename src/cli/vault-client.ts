import { type ApiClient, createApiClient } from './api-client.js';
import type { Connection } from './connection.js';
import { CliError } from './errors.js';
import type { HttpRequest } from './http-client.js';
import { asRecord, listItems } from './output.js';
import type { ErrorHints } from './server-errors.js';

/**
 * The data plane of one vault, as the Azure SDKs call it: `https://{vault}.{baseDomain}[:port]`,
 * the Key Vault REST API with an api-version, lists followed page by page through nextLink.
 * The bearer token only ever goes to a vault host of the configured server.
 */

export const DATA_PLANE_API_VERSION = '7.5';

const MAX_PAGE = 25;

export interface VaultClient {
  readonly vaultUrl: string;
  /** The vault name, for hints (`coffer secret list --vault-name NAME`). */
  readonly vaultName: string;
  call(
    method: HttpRequest['method'],
    path: string,
    body?: unknown,
    query?: Record<string, string>,
  ): Promise<unknown>;
  /** Every item of a list (or the first `max`), following nextLink on this vault only. */
  list(path: string, max?: number, query?: Record<string, string>): Promise<Record<string, unknown>[]>;
}

const VAULT_NAME = /^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/;

/** `https://{name}.{baseDomain}` on the port of the server's URL (vaults share its listener). */
export function vaultUrlFor(connection: Connection, vaultName: string): string {
  if (!VAULT_NAME.test(vaultName) || vaultName.includes('--')) {
    throw new CliError(
      `'${vaultName}' is not a vault name (3-24 letters, digits and hyphens, starting with a letter). Check --vault-name; \`coffer vault list\` shows them.`,
    );
  }
  const port = new URL(connection.url).port;
  return `https://${vaultName.toLowerCase()}.${connection.baseDomain}${port === '' ? '' : `:${port}`}`;
}

/**
 * The vault URL of an object id such as `https://v.vault.localhost:8443/secrets/n/ver`, checked
 * to be a vault of the configured server, so `--id` cannot send the token anywhere else.
 */
export function vaultUrlOfId(connection: Connection, id: string): { vaultUrl: string; segments: string[] } {
  let parsed: URL;
  try {
    parsed = new URL(id);
  } catch {
    throw new CliError(
      `--id '${id}' is not a URL. Pass the object's id as shown by \`show\` (https://VAULT.${connection.baseDomain}/...).`,
    );
  }
  const host = parsed.hostname.toLowerCase();
  const serverHost = new URL(connection.url).hostname.toLowerCase();
  if (parsed.protocol !== 'https:' || (!host.endsWith(`.${connection.baseDomain}`) && host !== serverHost)) {
    throw new CliError(
      `--id '${id}' is not on a vault of ${connection.url} (https://*.${connection.baseDomain}). Check --id, or --base-domain if the server uses another.`,
    );
  }
  const segments = parsed.pathname
    .split('/')
    .filter((segment) => segment !== '')
    .map(decodeURIComponent);
  return { vaultUrl: parsed.origin, segments };
}

export function createVaultClient(connection: Connection, vaultUrl: string, api?: ApiClient): VaultClient {
  const client = api ?? createApiClient(connection);
  const vaultName = new URL(vaultUrl).hostname.split('.')[0] ?? vaultUrl;
  const hints = hintsFor(vaultName);
  const urlOf = (path: string, query: Record<string, string> = {}): string => {
    const search = new URLSearchParams({ ...query, 'api-version': DATA_PLANE_API_VERSION });
    return `${vaultUrl}${path}?${search.toString()}`;
  };

  const list: VaultClient['list'] = async (path, max, query = {}) => {
    const items: Record<string, unknown>[] = [];
    const pageSize = String(Math.min(MAX_PAGE, max ?? MAX_PAGE));
    let next: string | undefined = urlOf(path, { ...query, maxresults: pageSize });
    while (next !== undefined && (max === undefined || items.length < max)) {
      const page = await client.callUrl('GET', next, undefined, hints);
      items.push(...listItems(page));
      next = nextPage(asRecord(page)['nextLink'], vaultUrl);
    }
    return max === undefined ? items : items.slice(0, max);
  };

  return {
    vaultUrl,
    vaultName,
    call: (method, path, body, query) => client.callUrl(method, urlOf(path, query), body, hints),
    list,
  };
}

function nextPage(link: unknown, vaultUrl: string): string | undefined {
  if (typeof link !== 'string' || link === '') return undefined;
  const url = new URL(link);
  if (url.origin !== new URL(vaultUrl).origin) {
    throw new CliError(
      `the server sent a next page on another host (${url.origin}); not following it. Report this.`,
    );
  }
  if (!url.searchParams.has('api-version')) url.searchParams.set('api-version', DATA_PLANE_API_VERSION);
  return url.toString();
}

function hintsFor(vault: string): ErrorHints {
  const listIn = (noun: string) =>
    `Check --name, or list them with \`coffer ${noun} list --vault-name ${vault}\`.`;
  return {
    VaultNotFound: 'Check --vault-name; `coffer vault list` shows the vaults.',
    SecretNotFound: listIn('secret'),
    KeyNotFound: listIn('key'),
    CertificateNotFound: listIn('certificate'),
    SecretDisabled: 'Enable it with `coffer secret set-attributes --enabled true ...`.',
    KeyDisabled: 'Enable it with `coffer key set-attributes --enabled true ...`.',
    ForbiddenByFirewall: `The vault's network rules refuse this address: see \`coffer vault network-rule list ${vault}\`.`,
    ForbiddenByPolicy: `Ask an administrator for an access policy: \`coffer vault set-policy ${vault} --object-id ID ...\`.`,
    '401': 'Check the credentials, or run `coffer login` again.',
    '403': `Ask an administrator for a data role on the vault (Key Vault Secrets Officer, Crypto Officer, Certificates Officer ...): \`coffer role assignment create --role ROLE --assignee ID --scope /vaults/${vault}\`.`,
  };
}
