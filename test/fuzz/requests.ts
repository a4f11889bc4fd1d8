import fc from 'fast-check';
import { KEY_VAULT_API_VERSIONS, RESOURCES_API_VERSIONS } from '../../src/arm/api-versions.js';
import { API_VERSIONS } from '../../src/http/api-version.js';
import { pathArbitrary } from './params.js';
import type { Route } from './route-table.js';
import { seedsOf } from './seeds.js';
import { type Json, RawJson, jsonText, mutated, nastyString, nastyValue, percentEncode } from './values.js';
import { CONTRIBUTOR_COUNT, MAIN_VAULT, NO_RIGHTS_COUNT, VICTIM_VAULTS, type World } from './world.js';

/** Which part of the server a route belongs to: it decides the host, the token and the api-version. */
export type Family = 'data' | 'admin' | 'arm' | 'identity' | 'console' | 'health' | 'unknown';

export function familyOf(url: string): Family {
  if (url.startsWith('/coffer/')) return 'admin';
  if (url === '/ui' || url.startsWith('/ui/')) return 'console';
  if (/^\/(subscriptions|tenants|metadata)(\/|$)/.test(url)) return 'arm';
  if (url.startsWith('/:tenantId/')) return 'identity';
  if (url === '/healthz' || url === '/readyz') return 'health';
  return 'data';
}

/** One request as sent, with the name of its authorization variant for the report. */
export interface FuzzRequest {
  route: string;
  family: Family;
  method: string;
  /** Path and query, as URL text. */
  target: string;
  headers: Record<string, string>;
  auth: string;
  body: string | undefined;
  localAddress: string;
}

/** A failing request, printed so it can be sent again by hand (tokens last an hour). */
export function describeRequest(request: FuzzRequest, port: number): string {
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  const headers = Object.entries(request.headers).map(([name, value]) => `-H ${quote(`${name}: ${value}`)}`);
  const body =
    request.body === undefined
      ? ''
      : request.body.length > 4000
        ? ` --data-binary @body.txt  # body of ${request.body.length} characters, starts ${JSON.stringify(request.body.slice(0, 200))}`
        : ` --data-binary ${quote(request.body)}`;
  return [
    `route ${request.route}, authorization ${request.auth}, from ${request.localAddress}`,
    `curl -sk --interface ${request.localAddress} -X ${request.method} ${headers.join(' ')} ${quote(`https://127.0.0.1:${port}${request.target}`)}${body}`,
  ].join('\n');
}

const ODD_HOSTS = (port: number) => [
  `localhost:${port}`,
  `${MAIN_VAULT}.vault.localhost:${port}`,
  `${VICTIM_VAULTS[0]}.vault.localhost:${port}`,
  `nosuch.vault.localhost:${port}`,
  `DEV.VAULT.LOCALHOST:${port}`,
  `dev.vault.localhost.:${port}`,
  'dev.vault.localhost',
  `127.0.0.1:${port}`,
  `[::1]:${port}`,
  `dev.vault.localhost:1@evil.example`,
  `a.b.dev.vault.localhost:${port}`,
  `vault.localhost:${port}`,
  `.vault.localhost:${port}`,
  `dev..vault.localhost:${port}`,
  `dev.vault.localhost:${port}:1`,
  `dev.vault.localhost:0`,
  `dev.vault.localhost:65536`,
  `${'a'.repeat(300)}.vault.localhost:${port}`,
  '',
  '[::1',
];

function hostArbitrary(family: Family, port: number): fc.Arbitrary<string> {
  const usual = family === 'data' ? `${MAIN_VAULT}.vault.localhost:${port}` : `localhost:${port}`;
  return fc.oneof(
    { weight: 14, arbitrary: fc.constant(usual) },
    { weight: 2, arbitrary: fc.constantFrom(...ODD_HOSTS(port)) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 30 }) },
  );
}

/** The authorization header variants, by label; the label is what the report counts. */
function authArbitrary(world: World): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 16, arbitrary: fc.constant('privileged') },
    { weight: 2, arbitrary: fc.constant('none') },
    { weight: 3, arbitrary: fc.nat(NO_RIGHTS_COUNT - 1).map((index) => `no-rights-${index}`) },
    { weight: 1, arbitrary: fc.constant('reader') },
    { weight: 1, arbitrary: fc.nat(CONTRIBUTOR_COUNT - 1).map((index) => `contributor-${index}`) },
    { weight: 1, arbitrary: fc.constant('user-password-token') },
    { weight: 2, arbitrary: fc.constantFrom(...Object.keys(world.forged)).map((name) => `forged-${name}`) },
    { weight: 1, arbitrary: fc.constant('other-plane') },
    { weight: 1, arbitrary: fc.constantFrom('tampered-signature', 'tampered-payload', 'lowercase-scheme') },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          fc.constantFrom(
            'Bearer',
            'Bearer ',
            'Basic YWRtaW46YWRtaW4=',
            'Bearer a.b.c',
            'Bearer ..',
            'Bearer eyJhbGciOiJub25lIn0.e30.',
            `Bearer ${'a'.repeat(20_000)}`,
            'PoP abc',
            'Bearer x y',
          ),
          fc.string({ unit: 'grapheme-ascii', maxLength: 60 }),
        )
        .map((value) => `garbage:${value}`),
    },
  );
}

/** The header an authorization label stands for, on a route of `family`. */
export function authorizationHeader(label: string, family: Family, world: World): string | undefined {
  const arm = family === 'arm';
  const bearer = (token: string) => `Bearer ${token}`;
  const privileged = arm ? world.adminArmToken : world.adminToken;
  if (label === 'privileged') return bearer(privileged);
  if (label === 'none') return undefined;
  if (label === 'reader') return bearer(world.readerToken);
  if (label === 'user-password-token') return bearer(world.userToken);
  if (label === 'other-plane') return bearer(arm ? world.adminToken : world.adminArmToken);
  if (label === 'lowercase-scheme') return `bearer ${privileged}`;
  if (label === 'tampered-signature') return bearer(`${privileged.slice(0, -6)}AAAAAA`);
  if (label === 'tampered-payload') {
    const [header, payload, signature] = privileged.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, oid: world.server.facts.clientId })).toString(
      'base64url',
    );
    return bearer(`${header}.${forged}.${signature}`);
  }
  if (label.startsWith('no-rights-')) {
    const tokens = world.noRights[Number(label.slice('no-rights-'.length))]!;
    return bearer(arm ? tokens.arm : tokens.vault);
  }
  if (label.startsWith('contributor-')) {
    const tokens = world.contributors[Number(label.slice('contributor-'.length))]!;
    return bearer(arm ? tokens.arm : tokens.vault);
  }
  if (label.startsWith('forged-')) return bearer(world.forged[label.slice('forged-'.length)]!);
  if (label.startsWith('garbage:')) return label.slice('garbage:'.length);
  throw new Error(`unknown authorization variant ${label}`);
}

const versionsOf = (list: ReadonlyArray<{ version: string }>) => list.map((entry) => entry.version);

/** `api-version` for the family: mostly a supported one, else missing, empty, unknown or repeated. */
function apiVersionArbitrary(family: Family, url: string): fc.Arbitrary<string[]> {
  const supported =
    family === 'data'
      ? versionsOf(API_VERSIONS)
      : family === 'arm'
        ? versionsOf(/microsoft\.keyvault/i.test(url) ? KEY_VAULT_API_VERSIONS : RESOURCES_API_VERSIONS)
        : [];
  const valid = supported.length > 0 ? fc.constantFrom(...supported) : fc.constant('7.6');
  const pair = (value: string) => `api-version=${value}`;
  const odd: fc.Arbitrary<string[]> = fc.oneof(
    fc.constant<string[]>([]),
    fc.constant<string[]>([pair('')]),
    nastyString.map((value) => [pair(percentEncode(value))]),
    fc.tuple(valid, valid).map(([a, b]) => [pair(a), pair(b)]),
    valid.map((value) => [`API-VERSION=${value}`]),
    valid.map((value) => [`api-version[]=${value}`]),
    valid.map((value) => [`api-version[a]=${value}`]),
  );
  if (supported.length === 0)
    return fc.oneof({ weight: 8, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: odd });
  return fc.oneof(
    { weight: 10, arbitrary: valid.map((value) => [pair(value)]) },
    { weight: 2, arbitrary: odd },
  );
}

/** Paging and filter options, right and wrong. */
const optionArbitrary: fc.Arbitrary<string> = fc.oneof(
  fc
    .constantFrom('1', '25', '0', '26', '-1', '1.5', 'abc', '', '1e1', '%205', '99999999999999999999', '0x10')
    .map((value) => `maxresults=${value}`),
  fc
    .oneof(
      fc
        .constantFrom('fz-secret', 'fz-rsa', '../x', 'a'.repeat(200), '', 'ZZZ', '\u0000')
        .map((name) => Buffer.from(name).toString('base64url')),
      nastyString.map(percentEncode),
    )
    .map((token) => `$skiptoken=${token}`),
  fc
    .constantFrom(
      'atScope()',
      "principalId eq '00000000-0000-0000-0000-000000000000'",
      "roleName eq 'Key Vault Reader'",
      "principalId eq 'x' or 1 eq 1",
      '(',
    )
    .map((filter) => `$filter=${percentEncode(filter)}`),
  fc.constantFrom('true', 'false', 'yes', '').map((value) => `includePending=${value}`),
  fc.constantFrom(
    '__proto__[x]=1',
    'constructor[prototype][x]=1',
    'a[b][c]=1',
    '=',
    '&&',
    '%',
    'a=%zz',
    '$top=1',
  ),
  fc.tuple(nastyString, nastyString).map(([key, value]) => `${percentEncode(key)}=${percentEncode(value)}`),
);

const BODY_CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/merge-patch+json',
  'application/json;',
  'application/jsonx',
  '',
];

/** Whole bodies that are not a mutation of anything: empty, not JSON, deep, odd encodings. */
const strayBody: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    'null',
    '[]',
    '"x"',
    '0',
    '{',
    '{"a":1,"a":2}',
    '\ufeff{}',
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
    `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`,
    'a=1&b=2',
  ),
  fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
  fc.string({ unit: 'binary', maxLength: 64 }),
);

type BodyPlan = { value: Json } | { raw: string } | undefined;

function bodyArbitrary(route: Route, world: World): fc.Arbitrary<BodyPlan> {
  const seeds = seedsOf(route, world) ?? [];
  const stray = strayBody.map((raw): BodyPlan => ({ raw }));
  const whole = nastyValue.map((value): BodyPlan => ({ value }));
  if (seeds.length === 0) {
    const none = fc.constant<BodyPlan>(undefined);
    return fc.oneof(
      { weight: 8, arbitrary: none },
      { weight: 1, arbitrary: stray },
      { weight: 1, arbitrary: whole },
    );
  }
  const seed = fc.constantFrom(...seeds);
  return fc.oneof(
    { weight: 4, arbitrary: seed.map((value): BodyPlan => ({ value })) },
    { weight: 8, arbitrary: seed.chain((value) => mutated(value)).map((value): BodyPlan => ({ value })) },
    { weight: 1, arbitrary: stray },
    { weight: 1, arbitrary: whole },
    { weight: 1, arbitrary: fc.constant<BodyPlan>(undefined) },
  );
}

/** Form fields as the token endpoint reads them: strings, whatever the fuzzer put there. */
function formText(value: Json): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof RawJson)
    return jsonText(value);
  const form = new URLSearchParams();
  for (const [key, item] of Object.entries(value))
    form.append(key, typeof item === 'string' ? item : jsonText(item));
  return form.toString();
}

function encodeBody(
  plan: BodyPlan,
  family: Family,
  contentTypeChoice: string | undefined,
): { body?: string; contentType?: string } {
  if (plan === undefined)
    return contentTypeChoice === undefined ? {} : { contentType: contentTypeChoice, body: '' };
  const form = family === 'identity' || family === 'console';
  const contentType = contentTypeChoice ?? (form ? 'application/x-www-form-urlencoded' : 'application/json');
  if ('raw' in plan) return { body: plan.raw, contentType };
  const asForm = /x-www-form-urlencoded/i.test(contentType);
  return { body: asForm ? formText(plan.value) : jsonText(plan.value), contentType };
}

const extraHeaderArbitrary: fc.Arbitrary<Record<string, string>> = fc
  .array(
    fc.oneof(
      fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((value) => ['x-ms-client-request-id', value]),
      fc
        .constantFrom('10.0.0.1', '127.0.0.1, 10.0.0.1', 'unknown', '::1', '999.1.1.1', ' ', 'a'.repeat(500))
        .map((value) => ['x-forwarded-for', value]),
      fc.constantFrom('gzip', 'br', 'identity', 'x').map((value) => ['content-encoding', value]),
      fc.constantFrom('DELETE', 'PUT').map((value) => ['x-http-method-override', value]),
      fc.constantFrom('*', '"x"').map((value) => ['if-match', value]),
      fc.constantFrom('application/xml', '*/*', '').map((value) => ['accept', value]),
    ),
    { maxLength: 3 },
  )
  .map((pairs) => Object.fromEntries(pairs));

/**
 * The privileged identity must not take the ground from under the run: sealing the server,
 * or deleting, firewalling or re-permissioning the vault every data-plane request goes to.
 * Such a request is sent with a token that has no rights instead (and so still fuzzes the refusal).
 */
function spareTheWorld(method: string, target: string, auth: string, body: string | undefined): string {
  if (auth !== 'privileged' && auth !== 'lowercase-scheme') return auth;
  const path = decodeURIComponentSafe(target.split('?')[0]!).toLowerCase();
  if (method === 'POST' && /^\/coffer\/operator\/seal\/?$/.test(path)) return 'no-rights-0';
  // Signing the world's console session out would leave every later console request anonymous:
  // sign-out is fuzzed without the session (and with the session but no CSRF token).
  if (method === 'POST' && /^\/ui\/sign-out\/?$/.test(path))
    return auth === 'privileged' ? 'lowercase-scheme' : auth;
  // Time moves for one victim vault only: every vault's clock days ahead would expire the fixtures.
  if (method === 'POST' && /^\/coffer\/dev\/time-shift\/?$/.test(path))
    return new RegExp(`"vault":"${VICTIM_VAULTS[1]}"`).test(body ?? '') ? auth : 'no-rights-0';
  if (method !== 'GET' && new RegExp(`/vaults/${MAIN_VAULT}(/|$)`).test(path)) return 'no-rights-0';
  return auth;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The console's session cookie (src/ui/console.ts). */
const SESSION_COOKIE = '__Host-coffer-session';

/**
 * The console signs in with a cookie, not a bearer token: the privileged labels send the world's
 * signed-in session (and its CSRF token in a form), the tampered ones a session id that is not
 * one, every other label no cookie at all (its bearer header, which the console ignores, stays).
 */
function consoleCredentials(auth: string, world: World): { cookie?: string; csrf?: string } {
  if (auth === 'privileged') return { cookie: world.console.session, csrf: world.console.csrf };
  // The session without the form's CSRF token: a write must be refused.
  if (auth === 'lowercase-scheme') return { cookie: world.console.session };
  if (auth.startsWith('tampered-')) return { cookie: `${world.console.session.slice(0, -4)}AAAA` };
  return {};
}

/** A console form with the session's CSRF token added (a mutation may already have removed fields). */
function withCsrf(plan: BodyPlan, csrf: string | undefined): BodyPlan {
  if (csrf === undefined || plan === undefined || !('value' in plan)) return plan;
  const { value } = plan;
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof RawJson)
    return plan;
  return { value: { _csrf: csrf, ...value } };
}

/** Requests for one route: its path, a token, a host, api-version and options, headers, body. */
export function requestArbitrary(route: Route, world: World): fc.Arbitrary<FuzzRequest> {
  const family = familyOf(route.url);
  return fc
    .record({
      path: pathArbitrary(route, world),
      auth: authArbitrary(world),
      host: hostArbitrary(family, world.port),
      apiVersion: apiVersionArbitrary(family, route.url),
      options: fc.array(optionArbitrary, { maxLength: route.method === 'GET' ? 3 : 1 }),
      body: bodyArbitrary(route, world),
      contentType: fc.oneof(
        { weight: 8, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constantFrom(...BODY_CONTENT_TYPES) },
      ),
      extra: extraHeaderArbitrary,
      address: fc.integer({ min: 2, max: 60 }),
    })
    .map((parts) => {
      const query = [...parts.apiVersion, ...parts.options];
      const target = query.length > 0 ? `${parts.path}?${query.join('&')}` : parts.path;
      const plannedAuth = spareTheWorld(route.method, target, parts.auth, undefined);
      const credentials = family === 'console' ? consoleCredentials(plannedAuth, world) : {};
      const plan = withCsrf(parts.body, credentials.csrf);
      const { body, contentType } = encodeBody(plan, family, parts.contentType);
      const auth = spareTheWorld(route.method, target, parts.auth, body);
      const authorization = authorizationHeader(auth, family, world);
      const headers: Record<string, string> = {
        ...parts.extra,
        host: parts.host,
        ...(credentials.cookie === undefined ? {} : { cookie: `${SESSION_COOKIE}=${credentials.cookie}` }),
        ...(authorization === undefined ? {} : { authorization }),
        ...(contentType === undefined ? {} : { 'content-type': contentType }),
      };
      return printable({
        route: `${route.method} ${route.url}`,
        family,
        method: route.method,
        target,
        headers,
        auth,
        body,
        localAddress: `127.0.0.${parts.address}`,
      });
    });
}

/** fast-check prints a counterexample short; the property's error holds the full request. */
function printable(request: FuzzRequest): FuzzRequest {
  const body = request.body === undefined ? 'no body' : `body ${JSON.stringify(request.body.slice(0, 80))}`;
  Object.defineProperty(request, fc.toStringMethod, {
    value: () => `${request.method} ${request.target.slice(0, 200)} (${request.auth.slice(0, 60)}, ${body})`,
  });
  return request;
}

/** Paths no route serves, and methods a route does not take. */
export function strayRequestArbitrary(world: World): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND'),
      path: fc.oneof(
        fc.constantFrom(
          '/',
          '/secrets/a/b/c/d/e',
          '/coffer',
          '/coffer/',
          '/coffer/operator',
          '/%2e%2e/coffer/vaults',
          '/secrets/%2e%2e/keys',
          '//secrets',
          '/.well-known/openid-configuration',
          // The authorize endpoint is a route (v2.0); the v1 path is not.
          `/${world.tenantId}/oauth2/authorize`,
          `/${world.tenantId}/oauth2/token`,
          '/metadata/identity/oauth2/token',
          '/subscriptions/x/providers',
          `/${'a/'.repeat(300)}`,
          `/${'a'.repeat(5000)}`,
          '/secrets?',
          '/%',
          '/*',
        ),
        fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((text) => `/${encodeURI(text)}`),
      ),
      auth: authArbitrary(world),
      address: fc.integer({ min: 2, max: 60 }),
    })
    .map(({ method, path, auth, address }) => {
      const authorization = authorizationHeader(auth, 'data', world);
      return printable({
        route: 'unknown path',
        family: 'unknown' as const,
        method,
        target: path,
        headers: {
          host: `${MAIN_VAULT}.vault.localhost:${world.port}`,
          ...(authorization === undefined ? {} : { authorization }),
        },
        auth,
        body: undefined,
        localAddress: `127.0.0.${address}`,
      });
    });
}
