import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { Pipeline } from '../core/pipeline.js';
import type { ManagementAction } from '../policy/actions.js';

/** What an admin call acts on, for authorization: a scope, and for role assignments the role. */
export interface AdminTarget {
  scope: string;
  roleDefinitionId?: string;
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
   * parsed and validated, so it may read the body (a role assignment's scope).
   */
  target?: (request: FastifyRequest) => Promise<AdminTarget> | AdminTarget;
  schema?: RouteOptions['schema'];
  handler: (request: FastifyRequest) => Promise<{ status?: number; body?: unknown }>;
}

/**
 * The administration API (docs/admin-api.md): same pipeline as the data plane (sealed gate,
 * bearer authentication, one authorize()), without vault routing or api-version.
 */
export function adminPlane(app: FastifyInstance, pipeline: Pipeline, routes: AdminRoute[]): void {
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
            request.principal = await pipeline.authenticate(request.headers.authorization);
          }
        : undefined,
      preHandler: action
        ? async (request) => {
            const target = route.target ? await route.target(request) : { scope: '/' };
            const address = pipeline.clientAddress(
              request.socket.remoteAddress,
              request.headers['x-forwarded-for'],
            );
            request.auditScope = target.scope;
            await pipeline.authorize(
              request.principal,
              action,
              target.scope,
              { roleDefinitionId: target.roleDefinitionId },
              address,
              (decision) => (request.authorization = decision),
            );
          }
        : undefined,
      handler: async (request, reply) => {
        const { status = 200, body } = await route.handler(request);
        reply.code(status);
        return body === undefined ? reply.send() : body;
      },
    });
  }
}
