import { Readable } from 'node:stream';
import type { AdminRoute } from '../http/admin-plane.js';
import type { Clock } from '../lib/clock.js';
import { ManagementActions } from '../policy/actions.js';
import type { Storage } from '../storage/types.js';
import { openInstallationBackup } from './installation-backup.js';

/**
 * `POST /coffer/operator/backup`: a whole-installation backup of the running server, streamed
 * as it is made (docs/backup.md). It is ciphertext only, readable by no one without the unseal
 * shares, so it takes the operator's right, like sealing and key rotation.
 */
export function installationBackupRoutes(deps: {
  storage: Pick<Storage, 'snapshot'>;
  barrier: { isSealed: boolean; installationBackupKey(backupId: Buffer): Buffer };
  clock: Clock;
  cofferVersion: string;
}): AdminRoute[] {
  return [
    {
      method: 'POST',
      url: '/coffer/operator/backup',
      operation: 'OperatorBackup',
      action: ManagementActions.operate,
      handler: async () => {
        const backup = await openInstallationBackup(deps);
        const body = Readable.from(backup.stream, { objectMode: false });
        body.on('close', () => void backup.close());
        return {
          body,
          headers: {
            'content-type': 'application/octet-stream',
            'x-coffer-backup-records': String(backup.header.records),
          },
        };
      },
    },
  ];
}
