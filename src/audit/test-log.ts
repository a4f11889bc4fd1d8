import { generateKeyPairSync } from 'node:crypto';
import { EMPTY_CHAIN, type ChainHead, linkRecord } from './chain.js';
import {
  type CheckpointSigner,
  checkpointEntry as signedCheckpoint,
  checkpointSigner,
} from './checkpoint-key.js';
import type { AuditEventBody, CheckpointReason, SpooledEntry } from './record.js';

/** Builders for tests of the chain, the verifier, the spool and the sinks: real records, real keys. */

export function newSigner(): CheckpointSigner {
  const { privateKey } = generateKeyPairSync('ed25519');
  return checkpointSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
}

export function eventBody(operationName: string, extra: Partial<AuditEventBody> = {}): AuditEventBody {
  return {
    time: '2026-11-20T08:00:00.000Z',
    resourceId: '/vaults/dev',
    operationName,
    operationVersion: '7.6',
    category: 'AuditEvent',
    resultType: 'Success',
    resultSignature: 'OK',
    resultDescription: '',
    durationMs: 3,
    callerIpAddress: '127.0.0.1',
    correlationId: `c-${operationName}`,
    identity: { claim: { appid: 'app-1' } },
    properties: {
      id: 'https://dev.vault.localhost:8443/secrets/alpha',
      requestUri: 'https://dev.vault.localhost:8443/secrets/alpha?api-version=7.6',
      httpStatusCode: 200,
      clientInfo: 'test',
    },
    ...extra,
  };
}

export function checkpointEntry(
  signer: CheckpointSigner,
  head: ChainHead,
  reason: CheckpointReason,
): SpooledEntry {
  return signedCheckpoint(signer, head, reason, '2026-11-20T08:01:00.000Z');
}

/**
 * A log of `events` request records with a checkpoint after every `every` of them and a
 * shutdown checkpoint at the end: the lines of an intact log.
 */
export function buildLog(signer: CheckpointSigner, events: number, every = 4): SpooledEntry[] {
  const entries: SpooledEntry[] = [];
  let head: ChainHead = EMPTY_CHAIN;
  const push = (entry: SpooledEntry) => {
    entries.push(entry);
    head = entry.record;
  };
  for (let index = 1; index <= events; index++) {
    push(linkRecord(eventBody(`Op${index}`), head));
    if (index % every === 0 && index < events) push(checkpointEntry(signer, head, 'interval'));
  }
  push(checkpointEntry(signer, head, 'shutdown'));
  return entries;
}
