import fc from 'fast-check';
import type { Route } from './route-table.js';
import { percentEncode } from './values.js';
import type { World } from './world.js';

/**
 * Which pool of valid values (World.pools) fills a path parameter: by the parameter's name, or
 * for the generic names (`name`, `id`, `kind`) by the literal segment before it. A parameter no
 * rule knows makes the coverage test fail, so a new route gets valid values, not only noise.
 */
const BY_NAME: Record<string, string> = {
  version: 'version',
  tenantId: 'tenantId',
  credentialId: 'credentialId',
  memberId: 'memberId',
  subscriptionId: 'subscriptionId',
  resourceGroupName: 'resourceGroup',
  vaultName: 'armVault',
  operationKind: 'accessPolicyKind',
  location: 'location',
  operationId: 'operationId',
  issuer: 'issuer',
  jobId: 'jobId',
  file: 'consoleAsset',
};

const BY_SEGMENT: Record<string, string> = {
  secrets: 'secretName',
  keys: 'keyName',
  certificates: 'certificateName',
  deletedsecrets: 'deletedName',
  deletedkeys: 'deletedName',
  deletedcertificates: 'deletedName',
  roleAssignments: 'roleAssignmentName',
  roleDefinitions: 'roleDefinitionName',
  vaults: 'adminVault',
  accessPolicies: 'accessPolicyKind',
  ipRules: 'ipRuleKind',
  principals: 'principalId',
  users: 'userId',
  groups: 'groupId',
  definitions: 'roleDefinitionId',
  assignments: 'assignmentId',
  deletedvaults: 'deletedVault',
  settings: 'setting',
  eventSubscriptions: 'eventSubscription',
  // The console's deleted-object pages: /ui/vaults/:vault/deleted/:kind/:name.
  deleted: 'deletedKind',
  ':kind': 'deletedName',
};

/** The pool of each parameter of a route, in order; undefined where no rule applies. */
export function poolsOf(route: Route): Array<string | undefined> {
  const segments = route.url.split('/');
  return segments.flatMap((segment, index) => {
    if (!segment.startsWith(':')) return [];
    const name = segment.slice(1);
    return [BY_NAME[name] ?? BY_SEGMENT[segments[index - 1] ?? '']];
  });
}

/** Path segments that test decoding, traversal and length limits; each is already URL text. */
const oddSegment: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 20 }).map(percentEncode),
  fc.string({ unit: 'binary', maxLength: 8 }).map(percentEncode),
  fc.string({ unit: 'grapheme-ascii', maxLength: 20 }).map((text) => text.replace(/[^\x21-\x7e]/g, '')),
  fc.integer({ min: 100, max: 2000 }).map((length) => 'a'.repeat(length)),
  fc.constantFrom(
    '.',
    '..',
    '%2e',
    '%2e%2e',
    '..%2f..%2f',
    'a%2Fb',
    'a/b',
    '%',
    '%zz',
    '%C0%AE',
    '%00',
    'a%0Ab',
    '%E2%80%AE',
    '%F0%9F%98%80',
    '%ED%A0%80',
    'a;b',
    'a%3Bb',
    '*',
    '~',
    'CON',
    '-',
    '0',
    'a'.repeat(127),
    'a'.repeat(128),
    'a'.repeat(257),
    '00000000-0000-0000-0000-000000000000',
    '__proto__',
    'constructor',
    '%5F%5Fproto%5F%5F',
    'versions',
    'latest',
    '\u00e9',
  ),
);

/**
 * Requests that delete, replace (a key import) or change (PATCH can disable) an object, and
 * recover a deleted one: they take disposable names, so the fixtures stay for the whole run.
 */
export function isDestructive(route: Route): boolean {
  return (
    route.method === 'DELETE' ||
    route.method === 'PATCH' ||
    (route.method === 'PUT' && route.url === '/keys/:name') ||
    route.url.endsWith('/recover') ||
    // The console's deletes are form POSTs.
    /^\/ui\/.*\/(delete|purge)$/.test(route.url)
  );
}

/** A value for one path parameter: mostly a valid one (so handlers run), else an awkward one. */
export function segmentArbitrary(
  pool: string | undefined,
  world: World,
  destructive = false,
): fc.Arbitrary<string> {
  const valid =
    pool === undefined ? [] : ((destructive ? world.disposable[pool] : undefined) ?? world.pools[pool] ?? []);
  if (valid.length === 0) return oddSegment;
  const choices = fc.constantFrom(...valid).map(percentEncode);
  return fc.oneof(
    { weight: 6, arbitrary: choices },
    { weight: 1, arbitrary: choices.map((value) => value.toUpperCase()) },
    { weight: 3, arbitrary: oddSegment },
  );
}

/** The concrete path of a route with its parameters filled in. */
export function pathArbitrary(route: Route, world: World): fc.Arbitrary<string> {
  const pools = poolsOf(route);
  if (pools.length === 0) return fc.constant(route.url);
  const destructive = isDestructive(route);
  return fc.tuple(...pools.map((pool) => segmentArbitrary(pool, world, destructive))).map((values) => {
    let index = 0;
    return route.url.replace(/:[\w$-]+/g, () => values[index++] ?? '');
  });
}
