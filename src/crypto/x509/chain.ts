import { X509Certificate } from 'node:crypto';
import { BadParameter } from '../../errors/index.js';

/**
 * Orders certificates leaf first: [leaf, its issuer, that one's issuer, ...], followed by any
 * certificates not on that path, in their original order (nothing is dropped). "Issued by" is
 * OpenSSL's check (names, key identifiers, the issuer's key usage), not a signature verification.
 * When several chains are possible the longest wins, then the one whose leaf came first.
 */
export function orderChain(certificates: Buffer[]): Buffer[] {
  if (certificates.length === 0) return [];
  const parsed = certificates.map(parseForChain);
  const issuerIndex = parsed.map((cert, index) =>
    parsed.findIndex((candidate, other) => other !== index && cert.checkIssued(candidate)),
  );
  const paths = parsed
    .map((_cert, index) => index)
    .filter((index) => !issuerIndex.includes(index))
    .map((leaf) => pathFrom(leaf, issuerIndex));
  const best = paths.reduce<number[]>((longest, path) => (path.length > longest.length ? path : longest), []);
  const path = best.length > 0 ? best : pathFrom(0, issuerIndex);
  const rest = certificates.filter((_der, index) => !path.includes(index));
  return [...path.map((index) => certificates[index]!), ...rest];
}

function parseForChain(der: Buffer, index: number): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch {
    throw new BadParameter(`Certificate ${index + 1} of the chain is not a valid X.509 certificate.`);
  }
}

/** The indexes from `start` up through its issuers, stopping at a root or a loop. */
function pathFrom(start: number, issuerIndex: number[]): number[] {
  const path: number[] = [];
  for (let index = start; index >= 0 && !path.includes(index); index = issuerIndex[index]!) path.push(index);
  return path;
}
