import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { Pipeline } from '../core/pipeline.js';
import type { TokenPlane } from '../identity/token-service.js';
import type { ManagementAction } from '../policy/actions.js';

/** What an admin call acts on, for authorization: a scope, and for role assignments the role. */
export interface AdminTarget {
  scope: string;
  roleDefinitionId?: string;
  /** The action to authorize when it is not the route's own (a body that changes who reads data). */
  action?: ManagementAction;
}

export interface AdminRoute {
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  /** The audit operationName for this route (`VaultPut`, `RoleAssignmentCreate`, ...): docs/audit.md. */
  operation: string;
  /** Undefined only for the few operator calls that must work before anyone can sign in. */
  action: ManagementAction | undefined;
  /**
   * The scope the action applies to (default `/`, the installation). Runs after the body is
   * parsed and validated, so it may read the body (a role assignment's scope). Several targets
   * must all be allowed, in order: a body may touch settings that different permissions guard.
   */
  target?: (request: FastifyRequest) => Promise<AdminTarget | AdminTarget[]> | AdminTarget | AdminTarget[];
  /**
   * A listing of things each authorized at its own scope (vaults): the action is decided per
   * item by `request.visible`, which the handler calls on what it lists, rather than once at the
   * target, so a caller allowed at some vaults lists those (as Resource Manager's lists do); the
   * target is then where a caller allowed at no item is refused.
   */
  listing?: boolean;
  schema?: RouteOptions['schema'];
  /** `headers`: for the few answers that carry more than a body (Resource Manager's `Azure-AsyncOperation`). */
  handler: (
    request: FastifyRequest,
  ) => Promise<{ status?: number; body?: unknown; headers?: Record<string, string> }>;
}

/** Requests of listing routes whose handler narrowed its items (see AdminRoute.listing). */
const narrowed = new WeakSet<FastifyRequest>();

/**
 * The administration API (docs/admin-api.md): same pipeline as the data plane (sealed gate,
 * bearer authentication, one authorize()), without vault routing or api-version. Resource
 * Manager's routes (src/arm) come through here too, with the management plane's tokens.
 */
export function adminPlane(
  app: FastifyInstance,
  pipeline: Pipeline,
  routes: AdminRoute[],
  plane: TokenPlane = 'vault',
): void {
  for (const route of routes) {
    const action = route.action;
    app.route({
      method: route.method,
      url: route.url,
      schema: route.schema,
      config: { operation: route.operation },
      onRequest: action
        ? async (request) => {
            pipeline.requireUnsealed();
            request.principal = await pipeline.authenticate(request.headers.authorization, plane);
          }
        : undefined,
      preHandler: action
        ? async (request) => {
            const given = route.target ? await route.target(request) : [];
            const targets = [given].flat();
            // No target means the installation: the widest scope, never no check at all.
            if (targets.length === 0) targets.push({ scope: '/' });
            const address = pipeline.clientAddress(
              request.socket.remoteAddress,
              request.headers['x-forwarded-for'],
            );
            if (route.listing) {
              const refusalScope = targets[0]!.scope;
              request.auditScope ??= refusalScope;
              request.visible = (items, scopeOf) => {
                narrowed.add(request);
                return pipeline.visible(
                  request.principal,
                  action,
                  items,
                  scopeOf,
                  refusalScope,
                  address,
                  (decision) => {
                    request.authorization = decision;
                  },
                );
              };
              return;
            }
            for (const target of targets) {
              // The first target is what the request acts on; the record keeps the last decision (a refusal ends the loop).
              request.auditScope ??= target.scope;
              await pipeline.authorize(
                request.principal,
                target.action ?? action,
                target.scope,
                { roleDefinitionId: target.roleDefinitionId },
                address,
                (decision) => (request.authorization = decision),
              );
            }
          }
        : undefined,
      handler: async (request, reply) => {
        const { status = 200, body, headers } = await route.handler(request);
        // A listing that never asked what the caller may see would have shown it everything.
        if (action && route.listing && !narrowed.has(request))
          throw new Error(`listing route ${route.url} answered without request.visible`);
        reply.code(status);
        if (headers) reply.headers(headers);
        return body === undefined ? reply.send() : body;
      },
    });
  }
}
