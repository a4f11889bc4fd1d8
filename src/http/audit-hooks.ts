import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditBroker } from '../audit/broker.js';
import { type RecordContext, type RequestFacts, requestRecord } from '../audit/request-record.js';
import { CofferError } from '../errors/index.js';
import { azureError } from './error-handler.js';

export interface AuditHookDeps {
  broker: Pick<AuditBroker, 'record' | 'accepting' | 'failClosed' | 'refusedRequest' | 'lostRecord'>;
  context: RecordContext;
  /** The vault a data-plane host addresses, without looking it up (for requests refused before). */
  vaultOfHost: (hostname: string) => string | undefined;
  clientAddress: (peer: string | undefined, forwardedFor: string | string[] | undefined) => string;
  /** The tenant, or undefined while sealed. */
  tenantId: () => string | undefined;
}

const UNAVAILABLE_MESSAGE =
  'The server cannot write its audit log, so it refuses requests until it can. Retry later; the operator finds the cause in the server log.';

class AuditUnavailable extends CofferError {
  constructor() {
    super(503, 'ServiceUnavailable', UNAVAILABLE_MESSAGE, { 'retry-after': '5' });
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Refused up front because the audit log cannot be written: nothing to record. */
    auditRefused: boolean;
  }
}

/**
 * Makes every audited request leave exactly one record, written to the durable spool before
 * its response goes out: in onSend, when the outcome (status, error) is known, whatever path
 * led there (a route, an error before routing, a 404). With failClosed a request whose record
 * cannot be written is answered 503 instead, and while the spool stays unwritable requests are
 * refused before they run. Routes opt out with `config: { audit: false }`.
 */
export function registerAuditHooks(app: FastifyInstance, deps: AuditHookDeps) {
  decorateAuditFields(app);

  // Requests between arrival and answer: a record written while it is the only one goes to the
  // spool at once, others share one write at the end of the loop turn (Spool.append).
  let inFlight = 0;
  app.addHook('onRequest', async (request, reply) => {
    inFlight++;
    // The response's 'close' comes once, when it is sent or its connection goes.
    reply.raw.once('close', () => inFlight--);
    if (!audited(request) || deps.broker.accepting) return;
    request.auditRefused = true;
    throw new AuditUnavailable();
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (!audited(request)) return payload;
    return recordThenAnswer(request, reply, payload);
  });

  async function recordThenAnswer(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
    if (request.auditRefused) {
      deps.broker.refusedRequest();
      return payload;
    }
    try {
      // A read's record may wait for the spool's next sync; a change's is on the disk first.
      const change =
        request.method !== 'GET' && request.method !== 'HEAD' && !request.routeOptions.config?.readOnly;
      const record = requestRecord(factsOf(request, reply, payload), deps.context);
      await deps.broker.record(record, change, inFlight <= 1);
      return payload;
    } catch {
      // The broker has logged why; the response depends on the mode.
      if (!deps.broker.failClosed) {
        deps.broker.lostRecord();
        return payload;
      }
      deps.broker.refusedRequest();
      reply.code(503).header('retry-after', '5').header('content-type', 'application/json; charset=utf-8');
      return JSON.stringify(azureError('ServiceUnavailable', UNAVAILABLE_MESSAGE));
    }
  }

  function factsOf(request: FastifyRequest, reply: FastifyReply, payload: unknown): RequestFacts {
    const durationMs = reply.elapsedTime;
    const config = request.routeOptions.config ?? {};
    const principal = request.principal as typeof request.principal | undefined;
    const asked = request.auditIdentity;
    const error = reply.statusCode >= 400 ? errorOf(payload) : undefined;
    return {
      startedAtMs: Date.now() - durationMs,
      durationMs,
      operation: config.operation ?? 'UnknownOperation',
      baseUrl: `https://${safeHost(request)}`,
      path: request.url.split('?')[0] ?? '/',
      apiVersion: apiVersionOf(request),
      status: reply.statusCode,
      error,
      vault:
        request.vault?.name ??
        (config.dataPlane || !config.operation ? deps.vaultOfHost(safeHost(request)) : undefined),
      scope:
        request.auditScope ??
        (config.dataPlane ? objectScopeOf(request, deps.vaultOfHost(safeHost(request))) : undefined),
      callerIp: deps.clientAddress(request.socket?.remoteAddress, request.headers['x-forwarded-for']),
      userAgent: header(request, 'user-agent'),
      clientRequestId: header(request, 'x-ms-client-request-id'),
      requestId: request.requestId || undefined,
      identity: {
        objectId: asked?.objectId ?? principal?.objectId,
        appId: asked?.appId ?? principal?.clientId,
        upn: asked?.upn ?? principal?.userPrincipalName,
        tenantId: asked || principal ? deps.tenantId() : undefined,
      },
      decision: request.authorization,
      addressAuthorized:
        error?.code === 'Forbidden' && error.innerCode === 'ForbiddenByFirewall'
          ? false
          : request.clientAddress && request.vault
            ? true
            : undefined,
    };
  }

  /** For errors Fastify answers before routing (bad URL): record, then answer 400 (or 503). */
  return {
    async frameworkError(request: FastifyRequest, reply: FastifyReply, status: number, body: unknown) {
      reply.code(status);
      const payload = await recordThenAnswer(request, reply, JSON.stringify(body));
      await reply.header('content-type', 'application/json; charset=utf-8').send(payload);
    },
  };
}

const COLLECTIONS: Record<string, string> = {
  secrets: 'secrets',
  deletedsecrets: 'secrets',
  keys: 'keys',
  deletedkeys: 'keys',
  certificates: 'certificates',
  deletedcertificates: 'certificates',
};

/**
 * The object a data-plane request names, for requests refused before authorization computed
 * its scope (401, firewall, sealed): from the route's `:name` and the path's collection.
 */
function objectScopeOf(request: FastifyRequest, vault: string | undefined): string | undefined {
  const name = (request.params as { name?: unknown } | undefined)?.name;
  const kind = COLLECTIONS[(request.url.split('/')[1] ?? '').toLowerCase()];
  if (!vault || !kind || typeof name !== 'string' || !/^[0-9a-zA-Z-]{1,127}$/.test(name)) return undefined;
  return `/vaults/${vault}/${kind}/${name.toLowerCase()}`;
}

/** What routes note for the record; decorated even with the audit log off, so requests keep one shape. */
export function decorateAuditFields(app: FastifyInstance): void {
  app.decorateRequest('auditRefused', false);
  app.decorateRequest('authorization', undefined);
  app.decorateRequest('auditScope', undefined);
  app.decorateRequest('auditIdentity', undefined);
}

function audited(request: FastifyRequest): boolean {
  return request.routeOptions.config?.audit !== false;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** The parsed Host (server.ts), never the raw header: a request whose Host was refused names no vault. */
function safeHost(request: FastifyRequest): string {
  return request.authority?.host ?? '';
}

function apiVersionOf(request: FastifyRequest): string | undefined {
  try {
    const value = (request.query as Record<string, unknown> | undefined)?.['api-version'];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The error the client was told, from Azure's `{error: {code, message}}` or OAuth's `{error, error_description}`. */
function errorOf(payload: unknown): { code: string; message: string; innerCode?: string } | undefined {
  if (typeof payload !== 'string' || payload.length > 16_384) return undefined;
  try {
    const body = JSON.parse(payload) as {
      error?: string | { code?: string; message?: string; innererror?: { code?: string } };
      error_description?: string;
    };
    if (typeof body.error === 'string') return { code: body.error, message: body.error_description ?? '' };
    if (body.error && typeof body.error.code === 'string') {
      return {
        code: body.error.code,
        message: body.error.message ?? '',
        innerCode: body.error.innererror?.code,
      };
    }
  } catch {
    // Not JSON: no error detail to record.
  }
  return undefined;
}
