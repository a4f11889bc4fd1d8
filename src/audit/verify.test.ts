import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { canonicalJson } from './canonical.js';
import { recordHash } from './chain.js';
import type { SpooledEntry, SpooledRecord } from './record.js';
import { buildLog, checkpointEntry, newSigner } from './test-log.js';
import { LogVerifier, type VerifyOptions } from './verify.js';

const signer = newSigner();
const publicKey = createPublicKey(signer.publicKeyPem);

function verify(lines: string[], options: Partial<VerifyOptions> = {}) {
  const verifier = new LogVerifier({ publicKeys: [publicKey], ...options });
  lines.forEach((line, index) => verifier.feed('audit.jsonl', index + 1, line));
  return verifier.finish();
}

const lines = (entries: SpooledEntry[]) => entries.map((entry) => entry.line);
/** A record changed and its line rewritten canonically, optionally with a hash to match. */
const edited = (entry: SpooledEntry, change: (record: SpooledRecord) => void, rehash = false) => {
  const record = JSON.parse(entry.line) as SpooledRecord;
  change(record);
  if (rehash) record.hash = recordHash(record);
  return canonicalJson(record);
};

describe('audit log verification', () => {
  const log = buildLog(signer, 10, 4); // records 1-4, cp 5, 6-9, cp 10, 11-12, shutdown cp 13

  it('passes an intact log and says what it proved', () => {
    const { problem, summary } = verify(lines(log));
    assert.equal(problem, undefined);
    assert.equal(summary.records, 13);
    assert.equal(summary.checkpoints, 3);
    assert.deepEqual([summary.firstSequence, summary.lastSequence], [1, 13]);
    assert.equal(summary.lastCheckpoint?.reason, 'shutdown');
  });

  it('names a record edited in place (its hash no longer matches)', () => {
    const tampered = lines(log);
    tampered[6] = edited(
      log[6]!,
      (record) => ((record as { operationName: string }).operationName = 'SecretGet'),
    );
    const { problem } = verify(tampered);
    assert.equal(problem?.line, 7);
    assert.equal(problem?.sequence, 7);
    assert.match(problem!.message, /record 7 was edited/);
  });

  it('names a record edited and re-hashed: the next record still names the original', () => {
    const tampered = lines(log);
    tampered[2] = edited(
      log[2]!,
      (record) => ((record as { callerIpAddress: string }).callerIpAddress = '10.0.0.9'),
      true,
    );
    const { problem } = verify(tampered);
    assert.equal(problem?.line, 3);
    assert.equal(problem?.sequence, 3);
    assert.match(problem!.message, /record 3 was edited/);
  });

  it('catches a rewrite that re-chains every later record at the next checkpoint', () => {
    // Edit record 6 and recompute every hash after it, as a careful forger would.
    const records = log.map((entry) => JSON.parse(entry.line) as SpooledRecord);
    (records[5] as { operationName: string }).operationName = 'Nothing';
    for (let index = 5; index < records.length; index++) {
      if (index > 5) records[index]!.previousHash = records[index - 1]!.hash;
      records[index]!.hash = recordHash(records[index]!);
    }
    const { problem } = verify(records.map((record) => canonicalJson(record)));
    assert.equal(problem?.sequence, 10, 'the first checkpoint after the edit');
    assert.match(problem!.message, /records 6 to 10 were edited and re-chained/);
  });

  it('names the gap where records were deleted', () => {
    const tampered = lines(log);
    tampered.splice(7, 2); // records 8 and 9
    const { problem } = verify(tampered);
    assert.equal(problem?.sequence, 10);
    assert.match(problem!.message, /records 8 to 9 are missing before record 10 \(deleted\)/);
  });

  it('names a reordering', () => {
    const tampered = lines(log);
    [tampered[1], tampered[2]] = [tampered[2]!, tampered[1]!];
    const { problem } = verify(tampered);
    assert.equal(problem?.line, 2);
    assert.match(problem!.message, /record 2 is missing before record 3/);
    const swapped = lines(log);
    [swapped[6], swapped[5]] = [swapped[5]!, swapped[6]!];
    swapped.splice(5, 1); // ...6, 7 -> 7, 6 with 6 dropped from its place
    assert.ok(verify(swapped).problem, 'any reordering is caught');
  });

  it('refuses a truncated log: records after the last checkpoint are unsigned', () => {
    const { problem } = verify(lines(log).slice(0, 11)); // ends at record 11, after checkpoint 10
    assert.equal(problem?.sequence, 11);
    assert.match(problem!.message, /truncated/);
    const atCheckpoint = verify(lines(log).slice(0, 10)); // ends at the interval checkpoint 10
    assert.match(atCheckpoint.problem!.message, /ends at an 'interval' checkpoint/);
    assert.equal(verify(lines(log).slice(0, 11), { live: true }).problem, undefined, '--live accepts it');
  });

  it('refuses a checkpoint signed by another key, and a forged signature', () => {
    const forger = newSigner();
    const head = log[11]!.record;
    const forged = [...lines(log).slice(0, 12), checkpointEntry(forger, head, 'shutdown').line];
    assert.match(verify(forged).problem!.message, /not a trusted key/);

    const badSignature = lines(log);
    badSignature[12] = edited(log[12]!, (record) => ((record as { reason: string }).reason = 'seal'), true);
    const { problem } = verify(badSignature);
    assert.equal(problem?.sequence, 13);
    assert.match(problem!.message, /does not carry a valid signature/);
  });

  it('requires the log to start at record 1 unless told where it starts', () => {
    const tail = lines(log).slice(5);
    assert.match(verify(tail).problem!.message, /records 1 to 5 are missing.*--from-sequence 6/);
    assert.equal(verify(tail, { fromSequence: 6 }).problem, undefined);
  });

  it('names a line that is not a record', () => {
    const tampered = lines(log);
    tampered[4] = tampered[4]!.slice(0, 40);
    assert.equal(verify(tampered).problem?.line, 5);
  });

  it('signs and hashes what an independent tool checks: openssl verifies a checkpoint, sha256 its hash', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'audit-verify-'));
    try {
      const checkpoint = log[4]!.record as SpooledRecord & { signature: string };
      const { signature, hash, ...signed } = checkpoint;
      writeFileSync(path.join(dir, 'key.pem'), signer.publicKeyPem);
      writeFileSync(path.join(dir, 'message'), canonicalJson(signed));
      writeFileSync(path.join(dir, 'signature'), Buffer.from(signature, 'base64url'));
      const output = execFileSync('openssl', [
        'pkeyutl',
        '-verify',
        '-pubin',
        '-inkey',
        path.join(dir, 'key.pem'),
        '-rawin',
        '-in',
        path.join(dir, 'message'),
        '-sigfile',
        path.join(dir, 'signature'),
      ]).toString();
      assert.match(output, /Signature Verified Successfully/);
      const withoutHash = canonicalJson({ ...signed, signature });
      assert.equal(createHash('sha256').update(withoutHash).digest('hex'), hash);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
