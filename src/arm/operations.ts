import { createHmac, randomBytes } from 'node:crypto';
import { readJson, type SecureStore, writeJson } from '../barrier/secure-store.js';
import { constantTimeEqual } from '../crypto/constant-time.js';
import type { Clock } from '../lib/clock.js';
import { locationPath } from './resource-ids.js';

/**
 * Long-running operations as Resource Manager clients poll them: a create-or-update answers
 * with `Azure-AsyncOperation`, and the client polls that URL until `status` is terminal. Coffer's
 * writes finish before they answer, so every operation it names has succeeded; the id carries its
 * times and an HMAC under an installation key kept in the barrier, so any node can answer a poll
 * (no operation table to share or lose on restart) and an id Coffer never issued is a 404.
 */
export interface OperationStatus {
  startMs: number;
  endMs: number;
}

const KEY_RECORD = 'operation-key';
const MAC_BYTES = 16;

export function createOperations(deps: { store: SecureStore; clock: Clock }) {
  let key: Buffer | undefined;

  /** Made once per installation, in a transaction so two nodes starting together agree on it. */
  async function operationKey(): Promise<Buffer> {
    key ??= await deps.store.transaction(async (tx) => {
      const stored = await readJson<{ key: string }>(tx, KEY_RECORD);
      if (stored) return Buffer.from(stored.key, 'base64');
      const made = randomBytes(32);
      await writeJson(tx, KEY_RECORD, { key: made.toString('base64') });
      return made;
    });
    return key;
  }

  const mac = (secret: Buffer, body: string) =>
    createHmac('sha256', secret).update(body).digest().subarray(0, MAC_BYTES).toString('base64url');

  return {
    /** The id of an operation that ran from `startMs` until now. */
    async issue(startMs: number): Promise<string> {
      const body = `${startMs.toString(36)}.${deps.clock.nowMs().toString(36)}.${randomBytes(9).toString('base64url')}`;
      return `${body}.${mac(await operationKey(), body)}`;
    },

    async status(id: string): Promise<OperationStatus | undefined> {
      const parts = id.split('.');
      if (parts.length !== 4) return undefined;
      const body = parts.slice(0, 3).join('.');
      if (!constantTimeEqual(mac(await operationKey(), body), parts[3]!)) return undefined;
      const [startMs, endMs] = parts.slice(0, 2).map((part) => parseInt(part, 36));
      return { startMs: startMs!, endMs: endMs! };
    },

    /** On seal: the key leaves memory with everything else learned while unsealed. */
    clear: () => {
      key = undefined;
    },
  };
}

export type Operations = ReturnType<typeof createOperations>;

/** Where a client polls an operation: `Azure-AsyncOperation` of a PUT, `Location` of a purge. */
export function operationStatusUrl(
  baseUrl: string,
  place: { subscriptionId: string; location: string; apiVersion: string },
  operationId: string,
): string {
  return `${baseUrl}${locationPath(place.subscriptionId, place.location)}/operationStatuses/${operationId}?api-version=${encodeURIComponent(place.apiVersion)}`;
}
