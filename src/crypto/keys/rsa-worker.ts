import type { KeyObject } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { BadParameter } from '../../errors/index.js';
import { cipherAlgorithm, signatureAlgorithm } from './algorithms.js';
import { rsaDecrypt, rsaSign } from './rsa.js';

/**
 * The entry point of an RSA worker thread (started by rsa-worker-pool.ts). For each request it
 * runs the rsa.ts operation with the private KeyObject it was sent (OpenSSL's key, shared with
 * the main thread's handle cache) and answers; it keeps no reference to the key afterwards.
 *
 * Only two kinds of failure come back: a BadParameter's message (a client mistake; by the
 * errors contract it quotes no key material, plaintext or ciphertext), or 'internal' with no
 * text at all, so no raw OpenSSL error ever crosses back.
 */

/** `decrypt` takes the algorithm from the encrypt family, `unwrap` from the wrap family. */
export type RsaWorkerOp = 'sign' | 'decrypt' | 'unwrap';

export interface RsaWorkerRequest {
  id: number;
  op: RsaWorkerOp;
  /** The Azure algorithm name; the main thread has already checked it fits the op and the key. */
  alg: string;
  /** The private key: a KeyObject crosses to the thread as a handle on the same OpenSSL key. */
  key: KeyObject;
  /** The digest to sign or the ciphertext to decrypt, in a buffer of its own (transferred). */
  input: Uint8Array;
}

export type RsaWorkerResponse =
  | { id: number; result: Uint8Array }
  | { id: number; error: 'bad-parameter'; message: string; code: string }
  | { id: number; error: 'internal' };

function run(request: RsaWorkerRequest): Buffer {
  const input = Buffer.from(request.input.buffer, request.input.byteOffset, request.input.byteLength);
  const { key } = request;
  if (key?.type !== 'private' || key.asymmetricKeyType !== 'rsa') throw new Error('not an RSA private key');
  switch (request.op) {
    case 'sign': {
      const alg = signatureAlgorithm(request.alg);
      if (alg.scheme === 'ecdsa') throw new Error('not an RSA signature algorithm');
      return rsaSign(key, alg, input);
    }
    case 'decrypt':
    case 'unwrap': {
      const alg = cipherAlgorithm(request.op === 'decrypt' ? 'encrypt' : 'wrap', request.alg);
      if (alg.keyType !== 'RSA') throw new Error('not an RSA cipher algorithm');
      return rsaDecrypt(key, alg, input);
    }
    default:
      throw new Error('unknown operation');
  }
}

function answer(request: RsaWorkerRequest): { response: RsaWorkerResponse; transfer: ArrayBuffer[] } {
  try {
    // A copy in a buffer of its own: a Buffer may be a view into a larger (pooled) one, and
    // posting a view clones the whole backing store.
    const result = new Uint8Array(run(request));
    return { response: { id: request.id, result }, transfer: [result.buffer] };
  } catch (error) {
    // Only BadParameter: NotSupported cannot happen (the main thread checked the name first).
    if (error instanceof BadParameter) {
      const { message, code } = error;
      return { response: { id: request.id, error: 'bad-parameter', message, code }, transfer: [] };
    }
    return { response: { id: request.id, error: 'internal' }, transfer: [] };
  }
}

const port = parentPort;
if (port === null) throw new Error('rsa-worker.js runs only as a worker thread');
port.on('message', (request: RsaWorkerRequest) => {
  // A message without a numeric id cannot be answered: throwing ends the thread, and the pool
  // fails that thread's pending operations and replaces it.
  if (typeof request?.id !== 'number') throw new Error('malformed request');
  const { response, transfer } = answer(request);
  port.postMessage(response, transfer);
});
