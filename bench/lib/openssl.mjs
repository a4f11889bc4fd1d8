// The crypto ceiling: `openssl speed -seconds 3` on as many cores as Coffer gives the operation.
// RSA private operations run on Coffer's worker threads (cryptoWorkers, by default one per CPU),
// so RSA is compared with `-multi CORES`; ECDSA and AES run on Coffer's one event loop, so they
// are compared with one openssl process. OpenSSL 3.0 reports RSA sign/verify only; an RSA-OAEP
// decrypt is the same private-key (CRT) exponentiation as a sign plus a negligible unpadding, so
// the sign rate is its ceiling too.
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';

function speed(args) {
  return new Promise((resolve, reject) =>
    execFile('openssl', ['speed', ...args], (error, stdout) => (error ? reject(error) : resolve(stdout))),
  );
}

const RSA_RATE = /^rsa 2048 bits\s+\S+\s+\S+\s+([\d.]+)/m;

/**
 * Resolves to {rsa2048-sign, rsa2048-decrypt (both on rsaCores), rsa2048-sign-1-process,
 * rsaCores, ecdsa-p256-sign, aes-256-gcm}, rates in operations/s.
 */
export async function opensslRates(seconds = 3, rsaCores = availableParallelism()) {
  const s = String(seconds);
  const rsa = RSA_RATE.exec(await speed(['-seconds', s, '-multi', String(rsaCores), 'rsa2048']));
  const rsaOne = RSA_RATE.exec(await speed(['-seconds', s, 'rsa2048']));
  const ec = /nistp256\)\s+\S+\s+\S+\s+([\d.]+)/m.exec(await speed(['-seconds', s, 'ecdsap256']));
  // 32-byte messages, like the API's payload; the figure is in 1000s of bytes per second.
  const aes = /^AES-256-GCM\s+([\d.]+)k/m.exec(
    await speed(['-seconds', s, '-bytes', '32', '-evp', 'aes-256-gcm']),
  );
  if (!rsa || !rsaOne || !ec || !aes) throw new Error('could not parse openssl speed output');
  return {
    'rsa2048-sign': Number(rsa[1]),
    'rsa2048-decrypt': Number(rsa[1]),
    'rsa2048-sign-1-process': Number(rsaOne[1]),
    rsaCores,
    'ecdsa-p256-sign': Number(ec[1]),
    'aes-256-gcm': (Number(aes[1]) * 1000) / 32,
  };
}
