import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalJson } from './canonical.js';
import { EMPTY_CHAIN, linkRecord } from './chain.js';
import type { RecordBody } from './record.js';
import { eventBody } from './test-log.js';

/** The line and hash by the definition (RFC 8785 over the record, hash over it without `hash`), computed apart. */
function expected(body: RecordBody, head: { sequence: number; hash: string }) {
  const unhashed = JSON.parse(
    JSON.stringify({ ...body, sequence: head.sequence + 1, previousHash: head.hash }),
  );
  const hash = createHash('sha256').update(canonicalJson(unhashed)).digest('hex');
  return { hash, line: canonicalJson({ ...unhashed, hash }) };
}

describe('chain links', () => {
  const bodies: Array<[string, RecordBody]> = [
    ['a request record', eventBody('SecretGet')],
    [
      'a request record with members out of order and undefined ones',
      eventBody('SecretSet', {
        properties: {
          requestUri: 'https://dev.vault.localhost/secrets/x',
          httpStatusCode: 200,
          clientInfo: 'ua "quoted" \u2028 \u00e9',
          id: undefined,
          isRbacAuthorized: true,
          appliedScope: '/vaults/dev',
        },
        identity: { claim: { z: '1', appid: 'a', 'http://schemas/oid': 'o' } },
      }),
    ],
    [
      'a record with a member more than the usual shape',
      { ...eventBody('VaultGet'), extra: 'x' } as RecordBody,
    ],
    [
      'a checkpoint',
      {
        time: '2026-11-20T08:00:00.000Z',
        category: 'AuditCheckpoint',
        reason: 'interval',
        keyId: 'k',
        algorithm: 'Ed25519',
        signature: 's',
      },
    ],
  ];
  for (const [what, body] of bodies) {
    it(`writes ${what} canonically, hashed without its hash`, () => {
      const head = { sequence: 41, hash: 'f'.repeat(64) };
      const entry = linkRecord(body, head);
      const want = expected(body, head);
      assert.equal(entry.line, want.line);
      assert.equal(entry.record.hash, want.hash);
      assert.deepEqual(entry.record, JSON.parse(want.line));
    });
  }

  it('numbers and links each record to the one before', () => {
    const first = linkRecord(eventBody('One'), EMPTY_CHAIN);
    const second = linkRecord(eventBody('Two'), first.record);
    assert.equal(first.record.sequence, 1);
    assert.equal(second.record.sequence, 2);
    assert.equal(second.record.previousHash, first.record.hash);
  });
});
