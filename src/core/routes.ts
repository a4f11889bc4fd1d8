import type { FastifyRequest } from 'fastify';
import type { Barrier } from '../barrier/barrier.js';
import { BadParameter, NotFound } from '../errors/index.js';
import type { AdminRoute } from '../http/admin-plane.js';
import type { IssuedCredentials } from '../identity/types.js';
import { ManagementActions } from '../policy/actions.js';
import type { SealManager } from './seal-manager.js';
import type { SealRelay } from './seal-relay.js';
import type { StoreCheck } from './store-check.js';

/** Operator calls: the seal lifecycle and barrier key rotation (docs/admin-api.md). */
export function operatorRoutes(deps: {
  seal: SealManager;
  barrier: Barrier;
  /**
   * Production init: the first tenant and administrator, under a Shamir seal, or the node's
   * auto-unseal key when it has one (shares and threshold are then not needed).
   */
  initialize: (
    shares?: number,
    threshold?: number,
  ) => Promise<{ shares: string[]; admin: IssuedCredentials }>;
  /** False in dev mode, where the server initialises itself. */
  allowInit: boolean;
  check: StoreCheck;
  /** `--workers N`: carries what an operator does to this worker's seal to the others. */
  relay?: SealRelay;
}): AdminRoute[] {
  const keyStatus = () => {
    const status = deps.barrier.keyStatus();
    return { term: status.term, rotatedAt: new Date(status.rotatedAtMs).toISOString(), terms: status.terms };
  };

  return [
    {
      method: 'GET',
      url: '/coffer/operator/status',
      operation: 'OperatorStatus',
      action: undefined,
      handler: async () => ({ body: await deps.seal.status() }),
    },
    {
      method: 'POST',
      url: '/coffer/operator/init',
      operation: 'OperatorInit',
      action: undefined,
      schema: {
        body: {
          type: 'object',
          properties: { shares: { type: 'integer' }, threshold: { type: 'integer' } },
        },
      },
      handler: async (request) => {
        if (!deps.allowInit)
          throw new BadParameter('A dev server initialises itself; operator init is for production servers.');
        const { shares, threshold } = request.body as { shares?: number; threshold?: number };
        const result = await deps.initialize(shares, threshold);
        return { body: { shares: result.shares, ...result.admin } };
      },
    },
    {
      method: 'POST',
      url: '/coffer/operator/unseal',
      operation: 'OperatorUnseal',
      action: undefined,
      schema: {
        body: { type: 'object', properties: { share: { type: 'string' }, reset: { type: 'boolean' } } },
      },
      handler: async (request: FastifyRequest) => {
        const body = request.body as { share?: string; reset?: boolean };
        if (body.reset) {
          deps.seal.resetProgress();
          await deps.relay?.broadcast({ kind: 'reset' });
          return { body: await deps.seal.status() };
        }
        if (typeof body.share !== 'string')
          throw new BadParameter('Send {"share": "..."} with one unseal share, or {"reset": true}.');
        const status = await deps.seal.submitShare(body.share).catch(async (error: unknown) => {
          // Shares that did not open the store reset progress here: reset it on the others too.
          if (deps.relay && (await deps.seal.status()).progress === 0)
            await deps.relay.broadcast({ kind: 'reset' });
          throw error;
        });
        // Only a share this worker accepted goes to the others; the answer waits for them, so
        // every worker is open (or as far along) when the operator reads it.
        if (!deps.relay) return { body: status };
        await deps.relay.broadcast({ kind: 'share', share: body.share });
        return { body: await deps.seal.status() };
      },
    },
    {
      method: 'POST',
      url: '/coffer/operator/seal',
      operation: 'OperatorSeal',
      action: ManagementActions.operate,
      handler: async () => {
        deps.seal.seal();
        await deps.relay?.broadcast({ kind: 'seal' });
        return { body: await deps.seal.status() };
      },
    },
    {
      method: 'POST',
      url: '/coffer/operator/rotate',
      operation: 'OperatorRotate',
      action: ManagementActions.operate,
      handler: async () => {
        await deps.barrier.rotate();
        const { term, rotatedAt } = keyStatus();
        return { body: { term, rotatedAt } };
      },
    },
    {
      method: 'POST',
      url: '/coffer/operator/check',
      operation: 'OperatorCheckStart',
      action: ManagementActions.operate,
      handler: async () => ({ status: 202, body: deps.check.start() }),
    },
    {
      method: 'GET',
      url: '/coffer/operator/check',
      operation: 'OperatorCheckGet',
      action: ManagementActions.operate,
      handler: async () => {
        const report = deps.check.latest();
        if (!report) {
          throw new NotFound(
            'CheckNotFound',
            'No check has run since the server started. Start one with coffer operator check.',
          );
        }
        return { body: report };
      },
    },
    {
      method: 'GET',
      url: '/coffer/operator/key-status',
      operation: 'OperatorKeyStatus',
      action: ManagementActions.operate,
      handler: async () => ({ body: keyStatus() }),
    },
  ];
}
