import { isIP } from 'node:net';
import { BadParameter } from '../../errors/index.js';

const DOTTED_TAIL = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/;

/**
 * Validates an IP address for a subject alternative name and returns it in the form asn1-x509's
 * GeneralName converter encodes correctly: that converter reads IPv6 groups as hex, so an
 * embedded IPv4 tail ("::ffff:192.0.2.1") is rewritten as two hex groups first.
 */
export function ipAddressForSan(text: string): string {
  const version = typeof text === 'string' && !text.includes('%') ? isIP(text) : 0;
  if (version === 0) {
    throw new BadParameter(
      `"${String(text)}" is not an IP address: write an IPv4 (192.0.2.1) or IPv6 (2001:db8::1) address without a zone or prefix.`,
    );
  }
  return version === 4 ? text : hexTail(text.toLowerCase());
}

function hexTail(ipv6: string): string {
  const tail = DOTTED_TAIL.exec(ipv6);
  if (!tail) return ipv6;
  const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
  const groups = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  return `${ipv6.slice(0, tail.index)}${groups}`;
}
