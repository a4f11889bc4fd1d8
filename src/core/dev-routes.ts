import { BadParameter } from '../errors/index.js';
import type { AdminRoute } from '../http/admin-plane.js';
import { DAY_MS } from '../lib/clock.js';
import { ManagementActions } from '../policy/actions.js';
import type { VaultRecord } from '../vaults/types.js';
import type { TimeShift } from './time-shift.js';

/**
 * Dev-mode tools (docs/admin-api.md, Dev mode). `POST /coffer/dev/time-shift` moves a vault's
 * clock (or every vault's) forward, then runs the background sweeps at once, so what the shift
 * makes due (rotation, near-expiry notices, auto-renewal, purge) has happened when it answers.
 */
export function devRoutes(deps: {
  dev: boolean;
  timeShift: TimeShift;
  vaults: { get(name: string): Promise<VaultRecord>; list(): Promise<VaultRecord[]> };
  runVaultSweeps: (vault: VaultRecord) => Promise<number>;
  runInstallationSweeps: () => Promise<number>;
}): AdminRoute[] {
  return [
    {
      method: 'POST',
      url: '/coffer/dev/time-shift',
      operation: 'DevTimeShift',
      action: ManagementActions.operate,
      schema: {
        body: {
          type: 'object',
          required: ['days'],
          additionalProperties: false,
          properties: { days: { type: 'integer' }, vault: { type: 'string', maxLength: 24 } },
        },
      },
      handler: async (request) => {
        if (!deps.dev) {
          throw new BadParameter(
            'Time shift is for dev servers only (coffer server --dev): a production server always runs on real time.',
            'NotSupportedOutsideDevMode',
          );
        }
        const { days, vault: name } = request.body as { days: number; vault?: string };
        const vault = name === undefined ? undefined : await deps.vaults.get(name);
        const offsetMs = deps.timeShift.shift(days, vault);
        let acted = 0;
        for (const each of vault ? [vault] : await deps.vaults.list())
          acted += await deps.runVaultSweeps(each);
        acted += await deps.runInstallationSweeps();
        // A vault id nobody has: the time every vault without its own shift sees.
        const now = deps.timeShift.nowFor(vault ?? { id: '' });
        return {
          body: {
            vault: vault?.name ?? null,
            offsetDays: offsetMs / DAY_MS,
            now: new Date(now).toISOString(),
            acted,
          },
        };
      },
    },
  ];
}
