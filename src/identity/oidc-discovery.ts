import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

const FETCH_TIMEOUT_MS = 5_000;
const MAX_BODY_BYTES = 512 * 1024;
/** Issuer metadata and keys are reused this long; an unknown `kid` refetches sooner (key rotation). */
const CACHE_MS = 10 * 60_000;
const REFETCH_AFTER_MS = 60_000;
const MAX_ISSUERS = 256;

export class DiscoveryError extends Error {}

interface IssuerKeys {
  keys: JWTVerifyGetKey;
  kids: Set<string>;
  fetchedAt: number;
}

/** GET of a small JSON document over HTTPS only: bounded time and size, no redirects at all. */
export async function fetchJson(url: string): Promise<unknown> {
  if (!url.startsWith('https://')) throw new DiscoveryError(`${url} is not an https URL`);
  let response: Response;
  try {
    response = await fetch(url, {
      redirect: 'error',
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      headers: { accept: 'application/json' },
    });
  } catch (error) {
    throw new DiscoveryError(`cannot fetch ${url}: ${(error as Error).name}`);
  }
  if (response.status !== 200) throw new DiscoveryError(`${url} answered ${response.status}`);
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_BODY_BYTES)
    throw new DiscoveryError(`${url} answered more than ${MAX_BODY_BYTES} bytes`);
  const text = await readLimited(response);
  try {
    return JSON.parse(text);
  } catch {
    throw new DiscoveryError(`${url} did not answer JSON`);
  }
}

async function readLimited(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw new DiscoveryError(`answer larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The signing keys of external OpenID Connect issuers, from `{issuer}/.well-known/openid-configuration`
 * and its `jwks_uri`, cached per issuer. Only issuers an administrator registered on a federated
 * credential are ever fetched (the caller checks that first), so a client cannot make the server
 * fetch arbitrary URLs.
 */
export function createOidcDiscovery(deps: {
  nowMs: () => number;
  fetchJson?: (url: string) => Promise<unknown>;
}) {
  const get = deps.fetchJson ?? fetchJson;
  const cache = new Map<string, IssuerKeys>();

  async function load(issuer: string): Promise<IssuerKeys> {
    const configUrl = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const config = (await get(configUrl)) as { issuer?: unknown; jwks_uri?: unknown };
    if (config?.issuer !== issuer) {
      throw new DiscoveryError(`the OpenID configuration of ${issuer} names another issuer`);
    }
    if (typeof config.jwks_uri !== 'string') throw new DiscoveryError(`${configUrl} has no jwks_uri`);
    const jwks = (await get(config.jwks_uri)) as JSONWebKeySet;
    if (!Array.isArray(jwks?.keys)) throw new DiscoveryError(`${config.jwks_uri} is not a JWKS`);
    const entry = {
      keys: createLocalJWKSet(jwks),
      kids: new Set(jwks.keys.map((key) => key.kid).filter((kid): kid is string => typeof kid === 'string')),
      fetchedAt: deps.nowMs(),
    };
    if (cache.size >= MAX_ISSUERS) cache.clear();
    cache.set(issuer, entry);
    return entry;
  }

  return {
    /** The issuer's key set; refetched when stale, or when `kid` is new and the last fetch is a minute old. */
    async keysFor(issuer: string, kid: string | undefined): Promise<JWTVerifyGetKey> {
      const entry = cache.get(issuer);
      const age = entry ? deps.nowMs() - entry.fetchedAt : Infinity;
      const unknownKid = kid !== undefined && entry !== undefined && !entry.kids.has(kid);
      if (!entry || age > CACHE_MS || (unknownKid && age > REFETCH_AFTER_MS))
        return (await load(issuer)).keys;
      return entry.keys;
    },
    clear: () => cache.clear(),
  };
}

export type OidcDiscovery = ReturnType<typeof createOidcDiscovery>;
