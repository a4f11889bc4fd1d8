// The crypto ceiling: `openssl speed -seconds 3` in one process (Coffer is one process too).
// OpenSSL 3.0 reports RSA sign/verify only; an RSA-OAEP decrypt is the same private-key (CRT)
// exponentiation as a sign plus a negligible unpadding, so the sign rate is its ceiling too.
import { execFile } from 'node:child_process';

function speed(args) {
  return new Promise((resolve, reject) =>
    execFile('openssl', ['speed', ...args], (error, stdout) => (error ? reject(error) : resolve(stdout))),
  );
}

/** Resolves to {rsa2048-sign, rsa2048-decrypt, ecdsa-p256-sign, aes-256-gcm} in operations/s. */
export async function opensslRates(seconds = 3) {
  const s = String(seconds);
  const rsa = /^rsa 2048 bits\s+\S+\s+\S+\s+([\d.]+)/m.exec(await speed(['-seconds', s, 'rsa2048']));
  const ec = /nistp256\)\s+\S+\s+\S+\s+([\d.]+)/m.exec(await speed(['-seconds', s, 'ecdsap256']));
  // 32-byte messages, like the API's payload; the figure is in 1000s of bytes per second.
  const aes = /^AES-256-GCM\s+([\d.]+)k/m.exec(
    await speed(['-seconds', s, '-bytes', '32', '-evp', 'aes-256-gcm']),
  );
  if (!rsa || !ec || !aes) throw new Error('could not parse openssl speed output');
  return {
    'rsa2048-sign': Number(rsa[1]),
    'rsa2048-decrypt': Number(rsa[1]),
    'ecdsa-p256-sign': Number(ec[1]),
    'aes-256-gcm': (Number(aes[1]) * 1000) / 32,
  };
}
