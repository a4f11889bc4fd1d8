import type { FastifyInstance } from 'fastify';
import type { Pipeline } from '../core/pipeline.js';
import type { RequestMetrics } from '../metrics/request-metrics.js';
import { SCRAPE_TOKEN_CALLER, scrapeTokenMatches } from '../metrics/scrape-token.js';
import { ManagementActions } from '../policy/actions.js';
import type { VaultRecord } from '../vaults/types.js';

export interface MetricsRouteDeps {
  pipeline: Pipeline;
  /** SHA-256 of the scrape token; undefined: only principals with Coffer/metrics/read scrape. */
  scrapeTokenSha256: Buffer | undefined;
  render: () => Promise<string>;
  contentType: string;
}

/**
 * `GET /metrics` (docs/metrics.md), audited as `MetricsGet`. Two ways in: the scrape token
 * (works while sealed, so a sealed server can still be watched), or a principal's bearer token
 * with `Coffer/metrics/read` at `/`, decided by the one authorize() like every other route.
 */
export function registerMetricsRoute(app: FastifyInstance, deps: MetricsRouteDeps): void {
  app.route({
    method: 'GET',
    url: '/metrics',
    config: { operation: 'MetricsGet' },
    // GET has no body: authentication and authorization both run before anything is read.
    onRequest: async (request) => {
      request.auditScope = '/';
      if (scrapeTokenMatches(deps.scrapeTokenSha256, request.headers.authorization)) {
        request.auditIdentity = { appId: SCRAPE_TOKEN_CALLER };
        return;
      }
      deps.pipeline.requireUnsealed();
      request.principal = await deps.pipeline.authenticate(request.headers.authorization);
      await deps.pipeline.authorize(
        request.principal,
        ManagementActions.readMetrics,
        '/',
        {},
        deps.pipeline.clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for']),
        (decision) => (request.authorization = decision),
      );
    },
    handler: async (_request, reply) => {
      const text = await deps.render();
      reply.header('content-type', deps.contentType).header('cache-control', 'no-store');
      return text;
    },
  });
}

/**
 * Feeds the request metrics from each answered request's outcome, after the answer went out
 * (onResponse), so counting never delays a response. Routes that are not audited (health
 * probes) are not counted either. Only a vault the request was routed to (one that exists)
 * becomes a label; anything else counts under vault "".
 */
export function registerRequestMetrics(app: FastifyInstance, requests: RequestMetrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    const config = request.routeOptions.config;
    if (config?.audit !== false) {
      const vault = (request.vault as VaultRecord | undefined)?.name ?? '';
      requests.observe(vault, config?.operation ?? 'UnknownOperation', reply.statusCode, reply.elapsedTime);
    }
    done();
  });
}
