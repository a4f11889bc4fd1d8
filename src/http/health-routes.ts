import type { FastifyInstance } from 'fastify';

/** What `/readyz` says: ready, or why not (sealed or uninitialised; disk full). */
export type Readiness = 'ready' | 'unavailable' | 'storage-full';

/**
 * `/healthz`: the process is up. `/readyz`: unsealed, the store answers and takes writes. No
 * authentication, and nothing but `{status}`: health checks are often exposed more widely than
 * the API.
 */
export function registerHealthRoutes(app: FastifyInstance, readiness: () => Promise<Readiness>): void {
  // Probes run every few seconds and carry no caller: they are not audited.
  const unaudited = { config: { audit: false } };
  app.get('/healthz', unaudited, async () => ({ status: 'ok' }));
  app.get('/readyz', unaudited, async (_request, reply) => {
    const status = await readiness().catch((): Readiness => 'unavailable');
    reply.code(status === 'ready' ? 200 : 503);
    if (status !== 'ready') reply.header('retry-after', '5');
    return { status };
  });
}
