import type { FastifyInstance } from 'fastify';

/**
 * What `/readyz` reports: `ready`; `read-only` (the primary database is unreachable and reads
 * come from the replica: still 200, since reads are served); anything else is not ready.
 */
export type Readiness = 'ready' | 'read-only' | 'unavailable';

/**
 * `/healthz`: the process is up. `/readyz`: unsealed and the store answers. No authentication,
 * and nothing but `{status}`: health checks are often exposed more widely than the API.
 */
export function registerHealthRoutes(app: FastifyInstance, readiness: () => Promise<Readiness>): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const status = await readiness().catch((): Readiness => 'unavailable');
    const serving = status === 'ready' || status === 'read-only';
    reply.code(serving ? 200 : 503);
    if (!serving) reply.header('retry-after', '5');
    return { status };
  });
}
