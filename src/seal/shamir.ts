import { combine, split } from 'shamir-secret-sharing';
import { BadParameter } from '../errors/index.js';

/** Shares may be handed out on paper or in chat: base64 with no line breaks. */
export async function splitUnsealKey(
  unsealKey: Buffer,
  shares: number,
  threshold: number,
): Promise<string[]> {
  validateShamirParameters(shares, threshold);
  if (shares === 1) return [unsealKey.toString('base64')];
  const parts = await split(new Uint8Array(unsealKey), shares, threshold);
  return parts.map((part) => Buffer.from(part).toString('base64'));
}

export async function combineShares(shares: Buffer[]): Promise<Buffer> {
  if (shares.length === 1) return shares[0]!;
  // The last byte is the share's x coordinate; the library throws a plain Error on a repeat.
  if (new Set(shares.map((share) => share.at(-1))).size !== shares.length) {
    throw new BadParameter(
      'The unseal shares do not reconstruct the key: two of them are for the same position (one was mistyped, or they come from different installations).',
      'InvalidUnsealKey',
    );
  }
  return Buffer.from(await combine(shares.map((share) => new Uint8Array(share))));
}

export function validateShamirParameters(shares: number, threshold: number): void {
  if (!Number.isInteger(shares) || shares < 1 || shares > 10) {
    throw new BadParameter('shares must be a whole number from 1 to 10.');
  }
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > shares) {
    throw new BadParameter('threshold must be a whole number from 1 to the number of shares.');
  }
  if (shares > 1 && threshold < 2) {
    throw new BadParameter('threshold must be at least 2 when there is more than one share.');
  }
}

/** A share as the operator typed it: base64 of the expected length, else a clear 400. */
export function parseShare(text: string, expectedBytes: number): Buffer {
  const trimmed = text.trim();
  const share = /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : undefined;
  if (!share || share.length !== expectedBytes) {
    throw new BadParameter(
      'The unseal share is not valid: paste one share exactly as coffer operator init printed it.',
    );
  }
  return share;
}
