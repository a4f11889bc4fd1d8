import type { FastifyError, FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { checkArmApiVersion } from '../arm/api-versions.js';
import type { Pipeline } from '../core/pipeline.js';
import { CofferError, NotFound } from '../errors/index.js';
import { type AdminRoute, adminPlane } from './admin-plane.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The audit operationName of the route. */
    operation?: string;
    /** false: the route is not audited (public discovery documents). */
    audit?: boolean;
  }
}

/** A Resource Manager route authorized like an admin route (an action at a scope). */
export interface ArmRoute extends AdminRoute {
  /** The audit operationName (`VaultPut`, `ResourceGroupGet`, ...). */
  operation: string;
}

/** A route any caller with a Resource Manager token may use (its own subscription, an operation's status), or anyone (metadata). */
export interface ArmOpenRoute {
  method: 'GET';
  url: string;
  operation: string;
  schema?: RouteOptions['schema'];
  handler: (request: FastifyRequest) => Promise<unknown>;
}

export interface ArmRoutes {
  authorized: ArmRoute[];
  authenticated: ArmOpenRoute[];
  /** No token and no unsealed store needed: `/metadata/endpoints`, static facts about the cloud. */
  anonymous: ArmOpenRoute[];
}

/**
 * Resource Manager's plane (docs/arm.md), on the bare host: the same pipeline as the admin API
 * (sealed gate, bearer authentication, one authorize() through adminPlane), with Resource
 * Manager's tokens (audience `{url}` or `https://management.azure.com`; a vault token is refused
 * here and an ARM token on a vault), its api-versions per resource provider, its subscription in
 * every path, and its error codes.
 */
export function armPlane(
  app: FastifyInstance,
  pipeline: Pipeline,
  routes: ArmRoutes,
  settings: { subscriptionId: () => string },
): void {
  app.register(async (scope) => {
    scope.setErrorHandler((error: FastifyError | Error) => {
      // The parent handler writes the answer; here only Resource Manager's names are given.
      throw armError(error);
    });
    scope.addHook('preValidation', async (request) => {
      checkSubscription(request, settings.subscriptionId);
      const url = request.routeOptions.url ?? '';
      if (url.startsWith('/metadata/')) return;
      checkArmApiVersion(
        /microsoft\.keyvault/i.test(url) ? 'keyVault' : 'resources',
        request.query as Record<string, unknown>,
      );
    });
    adminPlane(scope, pipeline, routes.authorized.flatMap(withCaseVariants), 'management');
    for (const route of routes.authenticated.flatMap(withCaseVariants)) {
      scope.route({
        ...openRoute(route),
        onRequest: async (request) => {
          pipeline.requireUnsealed();
          request.principal = await pipeline.authenticate(request.headers.authorization, 'management');
        },
      });
    }
    for (const route of routes.anonymous) scope.route({ ...openRoute(route), config: { audit: false } });
  });
}

function openRoute(route: ArmOpenRoute): RouteOptions {
  return {
    method: route.method,
    url: route.url,
    schema: route.schema,
    config: { operation: route.operation },
    handler: (request) => route.handler(request),
  };
}

/**
 * ARM path segments are case-insensitive and clients differ: azure-mgmt-resource sends
 * `resourcegroups`, the Key Vault clients `resourceGroups`. The router matches case exactly,
 * so each route is also registered under the spellings clients use.
 */
function withCaseVariants<T extends { url: string }>(route: T): T[] {
  const urls = new Set([route.url]);
  for (const url of [...urls]) urls.add(url.replace('/resourceGroups', '/resourcegroups'));
  for (const url of [...urls]) urls.add(url.replace('/Microsoft.KeyVault/', '/microsoft.keyvault/'));
  return [...urls].map((url) => ({ ...route, url }));
}

function checkSubscription(request: FastifyRequest, subscriptionId: () => string): void {
  const given = (request.params as { subscriptionId?: string }).subscriptionId;
  if (given !== undefined && given.toLowerCase() !== subscriptionId()) {
    throw new NotFound(
      'SubscriptionNotFound',
      `The subscription '${given.slice(0, 64)}' could not be found. This installation's subscription is listed by GET /subscriptions (and in dev.json).`,
    );
  }
}

/** Resource Manager's codes for the refusals Coffer shares with its other planes. */
function armError(error: FastifyError | Error): Error {
  if (!(error instanceof CofferError)) return error;
  if (error.status === 403) return new CofferError(403, 'AuthorizationFailed', error.message, error.headers);
  if (error.code === 'VaultNotFound') return new CofferError(404, 'ResourceNotFound', error.message);
  return error;
}
