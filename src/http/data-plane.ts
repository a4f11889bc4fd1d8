import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { Pipeline } from '../core/pipeline.js';
import type { Action } from '../policy/actions.js';
import { checkApiVersion } from './api-version.js';
import { addDataPlaneHeaders, type DataPlaneHeaderSettings } from './azure-headers.js';

export interface DataRoute {
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  /** Azure's audit operationName for this route (`SecretGet`, `KeySign`, ...): docs/audit.md. */
  operation: string;
  action: Action;
  /** The object the action applies to, for authorization: `/vaults/{vault}/secrets/{name}`. */
  scope: (request: FastifyRequest) => string;
  /**
   * A read that lists objects (collections, versions, deleted objects) rather than reading one.
   * RBAC does not tell them apart; access policies do (`list` against `get`).
   */
  listing?: boolean;
  /** A POST that changes nothing stored: audited like a read (see FastifyContextConfig.readOnly). */
  readOnly?: boolean;
  /** For role assignment writes and deletes: the role concerned, which ABAC conditions test. */
  roleDefinitionId?: (request: FastifyRequest) => Promise<string | undefined>;
  schema?: RouteOptions['schema'];
  bodyLimit?: number;
  handler: (
    request: FastifyRequest,
  ) => Promise<{ status?: number; body?: unknown; headers?: Record<string, string> }>;
}

/**
 * Registers data-plane routes behind the pipeline: sealed gate, bearer authentication (in
 * onRequest, so the 401 challenge is answered before the body is read), vault by Host,
 * api-version, then authorization with the route's action and scope.
 */
export function dataPlane(
  app: FastifyInstance,
  pipeline: Pipeline,
  routes: DataRoute[],
  headers: Omit<DataPlaneHeaderSettings, 'clientAddress'>,
  hooks: DataPlaneHooks = {},
): void {
  const inVaultTime = hooks.inVaultTime ?? ((_vault, work) => work());
  const addressOf = (request: FastifyRequest) =>
    pipeline.clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for']);
  app.register(async (scope) => {
    addDataPlaneHeaders(scope, { ...headers, clientAddress: addressOf });
    scope.addHook('onRequest', async (request) => {
      pipeline.requireUnsealed();
      request.principal = await pipeline.authenticate(request.headers.authorization);
      request.vault = await pipeline.resolveVault(request.authority.host);
      request.clientAddress = addressOf(request);
      pipeline.checkNetwork(request.vault, request.clientAddress);
      checkApiVersion(request.query as Record<string, unknown>);
    });
    for (const route of routes) {
      scope.route({
        method: route.method,
        url: route.url,
        schema: route.schema,
        bodyLimit: route.bodyLimit,
        config: { operation: route.operation, dataPlane: true, readOnly: route.readOnly },
        preHandler: async (request) => {
          request.auditScope = route.scope(request);
          // Before authorization: Azure counts every transaction a vault receives, refused ones too.
          await hooks.admit?.(request);
          await pipeline.authorize(
            request.principal,
            route.action,
            request.auditScope,
            {
              vault: request.vault,
              listing: route.listing,
              roleDefinitionId: route.roleDefinitionId ? await route.roleDefinitionId(request) : undefined,
            },
            request.clientAddress,
            (decision) => (request.authorization = decision),
          );
        },
        handler: async (request, reply) => {
          const {
            status = 200,
            body,
            headers,
          } = await inVaultTime(request.vault, () => route.handler(request));
          reply.code(status);
          if (headers) reply.headers(headers);
          return body === undefined ? reply.send() : body;
        },
      });
    }
  });
}

export interface DataPlaneHooks {
  /** Runs a handler in its vault's time (the dev-mode time shift). */
  inVaultTime?: <T>(vault: FastifyRequest['vault'], work: () => Promise<T>) => Promise<T>;
  /** The vault's throttle (Azure's service limits on request): throws 429 when over. */
  admit?: (request: FastifyRequest) => Promise<void>;
}

export function vaultScope(request: FastifyRequest, kind?: string, name?: string): string {
  const base = `/vaults/${request.vault.name}`;
  return kind && name ? `${base}/${kind}/${name.toLowerCase()}` : base;
}
