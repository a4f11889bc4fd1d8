import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { canonicalJson } from './canonical.js';
import { type ChainHead, linkRecord, without } from './chain.js';
import type { CheckpointBody, CheckpointReason, CheckpointRecord, SpooledEntry } from './record.js';

/**
 * The installation's checkpoint key: Ed25519 through node:crypto. The private half lives in the
 * barrier and in memory only while unsealed; the public half is published (beside the log and
 * through the admin API) for `coffer audit verify`.
 */
export function generateCheckpointKey(): { pkcs8: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { pkcs8: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

export interface CheckpointSigner {
  keyId: string;
  publicKeyPem: string;
  sign(unsigned: Omit<CheckpointRecord, 'signature' | 'hash'>): string;
}

export function checkpointSigner(pkcs8: string): CheckpointSigner {
  const privateKey = createPrivateKey(pkcs8);
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    sign: (unsigned) =>
      sign(null, Buffer.from(canonicalJson(unsigned), 'utf8'), privateKey).toString('base64url'),
  };
}

/** SHA-256 of the public key's DER (SubjectPublicKeyInfo), base64url. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64url');
}

/** Whether `record`'s signature was made by `publicKey` over the record minus signature and hash. */
export function checkpointSignatureValid(record: CheckpointRecord, publicKey: KeyObject): boolean {
  const signature = record.signature;
  const signed = without(record, 'signature', 'hash');
  if (typeof signature !== 'string') return false;
  try {
    return verify(
      null,
      Buffer.from(canonicalJson(signed), 'utf8'),
      publicKey,
      Buffer.from(signature, 'base64url'),
    );
  } catch {
    return false;
  }
}

/**
 * The checkpoint that follows `head`: its signature covers the record as it will stand in the
 * chain (sequence and previousHash included) without `signature` and `hash`.
 */
export function checkpointEntry(
  signer: CheckpointSigner,
  head: ChainHead,
  reason: CheckpointReason,
  time: string,
): SpooledEntry {
  const body = {
    time,
    category: 'AuditCheckpoint' as const,
    reason,
    keyId: signer.keyId,
    algorithm: 'Ed25519' as const,
  };
  const signature = signer.sign({ ...body, sequence: head.sequence + 1, previousHash: head.hash });
  return linkRecord<CheckpointBody>({ ...body, signature }, head);
}
