import type { AdminRoute } from '../http/admin-plane.js';
import { ManagementActions } from '../policy/actions.js';
import type { Cluster } from '../storage/cluster.js';

/**
 * `GET /coffer/operator/nodes`: this node's view of its installation (storage mode, whether it
 * hears the other members, whether it leads the sweeps) and the members seen recently. Flat,
 * numeric-friendly fields, so a metrics exporter can publish them as they are.
 */
export function clusterRoutes(deps: {
  cluster: Cluster;
  sealed: () => boolean;
  lastSweep: () => { at: string; acted: number } | undefined;
}): AdminRoute[] {
  return [
    {
      method: 'GET',
      url: '/coffer/operator/nodes',
      operation: 'OperatorNodes',
      action: ManagementActions.operate,
      handler: async () => {
        const status = deps.cluster.status();
        const members = await deps.cluster.members().catch(() => []);
        return {
          body: {
            node: {
              ...status,
              readOnly: status.mode === 'read-only',
              sealed: deps.sealed(),
              lastSweepAt: deps.lastSweep()?.at ?? null,
            },
            members,
          },
        };
      },
    },
  ];
}
