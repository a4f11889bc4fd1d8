import type { FastifyInstance } from 'fastify';

/** What `/readyz` says: ready, read-only (failover), or why not (sealed or uninitialised; disk full). */
export type Readiness = 'ready' | 'read-only' | 'unavailable' | 'storage-full';

/**
 * `/healthz`: the process is up. `/readyz`: unsealed, the store answers and takes writes, or
 * `read-only` (the primary database is unreachable and reads come from the replica: still 200,
 * since reads are served). No authentication, and nothing but `{status}`: health checks are
 * often exposed more widely than the API.
 */
export function registerHealthRoutes(app: FastifyInstance, readiness: () => Promise<Readiness>): void {
  // Probes run every few seconds and carry no caller: they are not audited.
  const unaudited = { config: { audit: false } };
  app.get('/healthz', unaudited, async () => ({ status: 'ok' }));
  app.get('/readyz', unaudited, async (_request, reply) => {
    const status = await readiness().catch((): Readiness => 'unavailable');
    const serving = status === 'ready' || status === 'read-only';
    reply.code(serving ? 200 : 503);
    if (!serving) reply.header('retry-after', '5');
    return { status };
  });
}
