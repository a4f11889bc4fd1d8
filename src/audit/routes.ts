import type { FastifyRequest } from 'fastify';
import { BadParameter, ServiceUnavailable } from '../errors/index.js';
import type { AdminRoute } from '../http/admin-plane.js';
import { ManagementActions } from '../policy/actions.js';
import { validateVaultName } from '../vaults/service.js';
import { decodeContinuation, encodeContinuation } from './continuation.js';
import type { IndexQuery } from './index/index-db.js';
import type { AllWorkersPage } from './index/worker-indexes.js';
import type { AuditStats } from './types.js';

const MAX_PAGE = 1000;
const OBJECT_KINDS = ['secrets', 'keys', 'certificates'];

export interface AuditRouteDeps {
  query: (query: IndexQuery) => Promise<string[]>;
  /** With `coffer server --workers N`: every worker's records, merged (src/audit/index/merge.ts). */
  workers?: {
    count: number;
    query: (query: IndexQuery, start: ReadonlyArray<number | undefined>) => Promise<AllWorkersPage>;
  };
  /** The name as records show it when names are HMACed (undefined while sealed or when they are not). */
  hmac: (name: string) => string | undefined;
  hmacNames: boolean;
  publicKey: () => { keyId: string; algorithm: 'Ed25519'; publicKeyPem: string } | undefined;
  stats: () => AuditStats;
}

type Query = Record<string, string | undefined>;

/**
 * The audit log's admin API (docs/audit.md): query and tail the records, the checkpoint public
 * key, the HMAC of a name. Reading records takes `Coffer/auditLogs/read`: at `/vaults/{vault}`
 * for one vault's records (`vault=` is then required), at `/` for everything.
 */
export function auditRoutes(deps: AuditRouteDeps): AdminRoute[] {
  const installationWide = () => ({ scope: '/' });
  return [
    {
      method: 'GET',
      url: '/coffer/audit/records',
      operation: 'AuditQuery',
      action: ManagementActions.readAuditLogs,
      target: (request) => {
        const vault = (request.query as Query)['vault'];
        return { scope: vault ? `/vaults/${validateVaultName(vault)}` : '/' };
      },
      schema: { querystring: querySchema },
      handler: async (request) => {
        const query = indexQuery(request.query as Query, deps);
        if (deps.workers) return { body: await allWorkers(request, query, deps.workers) };
        if ((request.query as Query)['continuation'] !== undefined)
          throw new BadParameter('continuation is for servers with workers; page with after=SEQUENCE.');
        const records = (await deps.query(query)).map((line) => JSON.parse(line) as { sequence: number });
        const last = records[records.length - 1];
        return {
          body: {
            value: records,
            nextLink:
              records.length === query.limit && last
                ? linkWith(request, { after: String(last.sequence) })
                : undefined,
          },
        };
      },
    },
    {
      method: 'GET',
      url: '/coffer/audit/public-key',
      operation: 'AuditPublicKeyGet',
      action: ManagementActions.readAuditLogs,
      target: installationWide,
      handler: async () => {
        const key = deps.publicKey();
        if (!key)
          throw new BadParameter('The audit log is turned off on this server (audit.enabled is false).');
        return { body: key };
      },
    },
    {
      method: 'POST',
      url: '/coffer/audit/hmac',
      operation: 'AuditHmac',
      action: ManagementActions.readAuditLogs,
      target: installationWide,
      schema: {
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 127 } },
        },
      },
      handler: async (request) => {
        const { name } = request.body as { name: string };
        return { body: { name: name.toLowerCase(), hmac: deps.hmac(name), namesAreHmaced: deps.hmacNames } };
      },
    },
    {
      method: 'GET',
      url: '/coffer/audit/status',
      operation: 'AuditStatusGet',
      action: ManagementActions.readAuditLogs,
      target: installationWide,
      handler: async () => ({ body: deps.stats() }),
    },
  ];
}

const querySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    since: { type: 'string', maxLength: 64 },
    until: { type: 'string', maxLength: 64 },
    vault: { type: 'string', maxLength: 64 },
    operation: { type: 'string', maxLength: 64 },
    caller: { type: 'string', maxLength: 256 },
    result: { type: 'string', maxLength: 16 },
    object: { type: 'string', maxLength: 200 },
    order: { type: 'string', enum: ['asc', 'desc'] },
    after: { type: 'string', pattern: '^[0-9]{1,15}$' },
    continuation: { type: 'string', maxLength: 4096 },
    limit: { type: 'string', pattern: '^[0-9]{1,5}$' },
  },
} as const;

function indexQuery(query: Query, deps: AuditRouteDeps): IndexQuery {
  const limit = query['limit'] === undefined ? 100 : Number(query['limit']);
  if (limit < 1 || limit > MAX_PAGE) throw new BadParameter(`limit must be from 1 to ${MAX_PAGE}.`);
  const result = query['result'];
  if (result !== undefined && !/^(success|failure|\d{3})$/i.test(result))
    throw new BadParameter('result must be Success, Failure or an HTTP status code such as 403.');
  return {
    since: time('since', query['since']),
    until: time('until', query['until']),
    resource: query['vault'] ? `/vaults/${query['vault'].toLowerCase()}` : undefined,
    operation: query['operation'],
    caller: query['caller'],
    result,
    objects: query['object'] === undefined ? undefined : objectKeys(query['object'], deps),
    cursor: query['after'] === undefined ? undefined : Number(query['after']),
    order: query['order'] === 'desc' ? 'desc' : 'asc',
    limit,
  };
}

/** `NAME` or `KIND/NAME`: every form a record may show it in (plain, or its HMAC). */
function objectKeys(object: string, deps: AuditRouteDeps): string[] {
  const [kind, name] = object.includes('/') ? object.split('/', 2) : [undefined, object];
  if (!name || (kind !== undefined && !OBJECT_KINDS.includes(kind.toLowerCase())))
    throw new BadParameter('object must be a name, or secrets/NAME, keys/NAME or certificates/NAME.');
  const names = [name.toLowerCase(), deps.hmac(name)].filter((form): form is string => form !== undefined);
  const kinds = kind ? [kind.toLowerCase()] : OBJECT_KINDS;
  return kinds.flatMap((k) => names.map((form) => `${k}/${form}`));
}

function time(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms))
    throw new BadParameter(
      `${name} must be an ISO 8601 date or time, such as 2026-11-20 or 2026-11-20T08:00:00Z.`,
    );
  return ms;
}

/**
 * With `--workers N`: the records of every worker's chain, merged. Each says which chain it is in
 * (`worker`: a sequence is only unique within its chain); the stored record is unchanged, so
 * drop `worker` before checking a record's hash. Pages go on with `continuation` (one position
 * per chain); `followLink` asks for what is written after this answer (`coffer audit tail -f`).
 */
async function allWorkers(
  request: FastifyRequest,
  query: IndexQuery,
  workers: NonNullable<AuditRouteDeps['workers']>,
) {
  const params = request.query as Query;
  if (params['after'] !== undefined)
    throw new BadParameter(
      "after names a sequence of one worker's chain, and this server has several: page with the nextLink's continuation.",
    );
  const continuation = params['continuation'];
  const start =
    continuation === undefined
      ? Array.from({ length: workers.count }, () => undefined)
      : decodeContinuation(continuation, query.order, workers.count);
  const page = await workers.query(query, start);
  // Half an answer to "who read X" must not pass for the whole one.
  const [unreadable] = page.unreadable;
  if (unreadable)
    throw new ServiceUnavailable(
      `The audit index of worker ${unreadable.worker} could not be read (${unreadable.reason}), so the answer would miss its records; retry in a moment.`,
      1,
    );
  return {
    value: page.records.map(({ worker, line }) => ({ ...(JSON.parse(line) as object), worker })),
    nextLink: page.next && linkWith(request, { continuation: encodeContinuation(query.order, page.next) }),
    followLink: linkWith(request, { continuation: encodeContinuation('asc', page.follow), order: undefined }),
  };
}

function linkWith(request: FastifyRequest, changes: Record<string, string | undefined>): string {
  const params = new URLSearchParams(request.query as Record<string, string>);
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) params.delete(name);
    else params.set(name, value);
  }
  return `/coffer/audit/records?${params.toString()}`;
}
