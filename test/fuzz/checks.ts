import { createHash } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { FuzzResponse } from './client.js';
import type { FuzzRequest } from './requests.js';

/**
 * What every answer must satisfy, whatever was asked: no 5xx, a refusal in Azure's error JSON
 * (or OAuth's, from the identity endpoints) with a message, and no secret in a refusal.
 * Returns what is wrong, empty when all holds.
 */
export function problemsWith(
  request: FuzzRequest,
  response: FuzzResponse,
  secrets: readonly string[],
): string[] {
  const { status } = response;
  if (status >= 500) return [`answered ${status}: ${response.text.slice(0, 300)}`];
  if (response.broken !== undefined && !isHeadClientErrorAnswer(request, response))
    return [`the connection broke after the status line (${status}): ${response.broken}`];
  const browser = isBrowserRoute(request);
  // Only the browser's routes redirect (303 to the sign-in, the callback, a page after a form).
  if (status < 200 || (status >= 300 && status < 400 && !(browser && status === 303)))
    return [`answered ${status}, which no route sends`];
  if (status < 400) return [];
  const problems: string[] = [];
  if (browser && /^text\/html/.test(String(response.headers['content-type'] ?? ''))) {
    if (request.method !== 'HEAD' && !/<h1>[^<]+<\/h1>|<p[^>]*>[^<]+</.test(response.text))
      problems.push(`${status} is an HTML page that says nothing: ${response.text.slice(0, 300)}`);
  } else if (request.method !== 'HEAD') {
    const shape = errorShape(response.text);
    if (!shape.ok)
      problems.push(`${status} is not in Azure's (or OAuth's) error shape: ${response.text.slice(0, 300)}`);
    else if (shape.oauth && request.family !== 'identity')
      problems.push(
        `${status} in OAuth's error shape outside the identity endpoints: ${response.text.slice(0, 300)}`,
      );
  }
  const token = /^Bearer\s+(\S{16,})/i.exec(request.headers.authorization ?? '')?.[1];
  for (const secret of [...secrets, ...(token ? [token] : [])]) {
    if (response.text.includes(secret))
      problems.push(
        `the ${status} refusal quotes a secret (${secret.slice(0, 12)}...): ${response.text.slice(0, 300)}`,
      );
  }
  return problems;
}

/**
 * The console and the authorize endpoint answer a browser: HTML pages (a refusal too) and 303
 * redirects, not Azure's JSON.
 */
export function isBrowserRoute(request: Pick<FuzzRequest, 'family' | 'route'>): boolean {
  return request.family === 'console' || /\/oauth2\/v2\.0\/authorize$/.test(request.route);
}

/**
 * Known and accepted: what Node's HTTP layer answers itself before any route runs (400 for bytes
 * that are not HTTP, 408, 431 for headers over 16 KB) carries Azure's error JSON even to a HEAD,
 * where HTTP allows no body. The parser stops before it has told anyone the method, so the
 * server cannot leave the body out; a client reads the status, then a framing error, and the
 * connection closes (docs/security.md, the fuzz suite).
 */
export function isHeadClientErrorAnswer(request: FuzzRequest, response: FuzzResponse): boolean {
  return (
    request.method === 'HEAD' &&
    [400, 408, 431].includes(response.status) &&
    response.headers.connection === 'close'
  );
}

/** Azure: {"error": {"code", "message"}} with both non-empty; OAuth: {"error", "error_description"}. */
export function errorShape(text: string): { ok: boolean; oauth: boolean } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, oauth: false };
  }
  const error = (body as { error?: unknown } | null)?.error;
  if (typeof error === 'string') {
    const description = (body as { error_description?: unknown }).error_description;
    return { ok: error !== '' && typeof description === 'string' && description !== '', oauth: true };
  }
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return {
    ok: typeof code === 'string' && code !== '' && typeof message === 'string' && message.trim() !== '',
    oauth: false,
  };
}

/**
 * Every row of the running server's store, read through a separate read-only connection
 * (SQLite's WAL lets it see each committed write): two equal snapshots mean not one byte of the
 * store changed in between, the barrier's commit counter included.
 */
export class StoreDigest {
  private readonly db: Database.Database;
  private readonly rows: Database.Statement<[], { key: string; value: Buffer }>;

  constructor(dataDir: string) {
    this.db = new Database(path.join(dataDir, 'coffer.db'), { readonly: true, fileMustExist: true });
    this.rows = this.db.prepare('SELECT key, value FROM entries ORDER BY key');
  }

  /** Each row's key with a hash of its value. */
  snapshot(): Map<string, string> {
    const rows = new Map<string, string>();
    for (const row of this.rows.iterate())
      rows.set(row.key, createHash('sha256').update(row.value).digest('hex'));
    return rows;
  }

  close(): void {
    this.db.close();
  }
}

/** The keys of rows that differ between two snapshots. */
export function changedKeys(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((key) => before.get(key) !== after.get(key));
}

/**
 * Routes anyone may call: health, the identity endpoints, cloud metadata, and the seal status,
 * init and unseal (they must work before anyone can sign in; docs/admin-api.md).
 */
const ANONYMOUS =
  /^(GET|HEAD) (\/healthz|\/readyz|\/metadata\/endpoints|\/coffer\/operator\/status)$|^POST \/coffer\/operator\/(init|unseal)$|^(GET|HEAD|POST) \/:tenantId\//;
/** Console routes anyone may call: its assets, and sign-out (which ends nothing without a session). */
const CONSOLE_ANONYMOUS = /^(GET|HEAD) \/ui\/assets\/:file$|^POST \/ui\/sign-out$/;
/** Resource Manager routes any management token may call: its subscription, tenants, operation status. */
const ANY_MANAGEMENT_TOKEN =
  /^(GET|HEAD) \/(subscriptions|tenants|subscriptions\/:subscriptionId|subscriptions\/:subscriptionId\/providers\/[^/]+\/locations\/:location\/operationStatuses\/:operationId)$/i;
/** Vault objects: what data actions guard (the role API at vault URLs takes management actions). */
const VAULT_DATA =
  /^[A-Z]+ \/(secrets|keys|certificates|deletedsecrets|deletedkeys|deletedcertificates|rng)(\/|$)(?!.*providers\/Microsoft\.Authorization\/)/;

/**
 * Least privilege, seen from outside: a request that carries no valid token succeeds only on
 * anonymous routes; a principal without roles only there and where any management token will
 * do; a Secrets User only reads secrets; Key Vault Contributor never reaches data, nor changes
 * who may read it.
 */
export function authorizationProblems(request: FuzzRequest, response: FuzzResponse): string[] {
  if (response.status < 200 || response.status >= 300 || request.route === 'unknown path') return [];
  const { auth, route } = request;
  const anonymous = ANONYMOUS.test(route);
  const deny = (who: string) => [`${who} got ${response.status} on ${route}`];
  if (request.family === 'console') {
    // Requests.ts: 'privileged' carries the session and its CSRF token, 'lowercase-scheme' the session alone.
    if (auth === 'privileged' || CONSOLE_ANONYMOUS.test(route)) return [];
    if (auth === 'lowercase-scheme' && /^(GET|HEAD) /.test(route)) return [];
    return deny(`a console request without the session and its CSRF token (${auth.slice(0, 40)})`);
  }
  if (/^(none|garbage:|forged-|tampered-|other-plane)/.test(auth))
    return anonymous ? [] : deny(`a caller without a valid token (${auth.slice(0, 40)})`);
  if (/^(no-rights|user-password-token)/.test(auth))
    return anonymous || ANY_MANAGEMENT_TOKEN.test(route) ? [] : deny(`a principal without roles (${auth})`);
  if (auth === 'reader')
    return anonymous || /^(GET|HEAD) \/(deleted)?secrets(\/|$)(?!.*providers\/)/.test(route)
      ? []
      : deny('a Key Vault Secrets User');
  if (auth.startsWith('contributor')) {
    // Key Vault Contributor reads role definitions and assignments (Microsoft.Authorization/*/read).
    if (VAULT_DATA.test(route)) return deny('Key Vault Contributor');
    if (/^(PUT|DELETE) .*\/providers\/Microsoft\.Authorization\//.test(route))
      return deny('Key Vault Contributor changing role assignments or definitions');
    if (route.includes('/accessPolicies/')) return deny('Key Vault Contributor changing access policies');
    if (route === 'PATCH /coffer/vaults/:name' && /"enableRbacAuthorization"\s*:/.test(request.body ?? ''))
      return deny('Key Vault Contributor switching the permission model');
  }
  return [];
}
