import type { FastifyInstance } from 'fastify';

/**
 * `/healthz`: the process is up. `/readyz`: unsealed and the store answers. No authentication,
 * and nothing but `{status}`: health checks are often exposed more widely than the API.
 */
export function registerHealthRoutes(app: FastifyInstance, ready: () => Promise<boolean>): void {
  // Probes run every few seconds and carry no caller: they are not audited.
  const unaudited = { config: { audit: false } };
  app.get('/healthz', unaudited, async () => ({ status: 'ok' }));
  app.get('/readyz', unaudited, async (_request, reply) => {
    const isReady = await ready().catch(() => false);
    reply.code(isReady ? 200 : 503);
    if (!isReady) reply.header('retry-after', '5');
    return { status: isReady ? 'ready' : 'unavailable' };
  });
}
