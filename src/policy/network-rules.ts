import { BlockList, isIP } from 'node:net';
import { BadParameter } from '../errors/index.js';

/** A vault's firewall, as Azure's `networkAcls`: a default action and allowed address ranges. */
export interface NetworkAcls {
  defaultAction: 'Allow' | 'Deny';
  /** CIDR ranges (IPv4 or IPv6); a bare address means that one address. */
  ipRules: string[];
}

/** Normalises one rule to `address/prefix`; a clear 400 when it is not an address range. */
export function parseIpRule(rule: string): string {
  const [address = '', prefixText, ...rest] = String(rule).trim().split('/');
  const family = isIP(address);
  const maxPrefix = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? maxPrefix : Number(prefixText);
  if (family === 0 || rest.length > 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix) {
    throw new BadParameter(
      `'${String(rule).slice(0, 60)}' is not an IP address range: use CIDR such as 203.0.113.0/24 or 2001:db8::/32.`,
    );
  }
  return `${address}/${prefix}`;
}

/** IPv4 peers arrive as IPv4-mapped IPv6 (`::ffff:127.0.0.2`) on dual-stack sockets. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Whether a client address may reach a vault with these rules. No rules: open, as in Azure. */
export function networkAllows(acls: NetworkAcls | undefined, clientAddress: string): boolean {
  if (!acls || acls.defaultAction === 'Allow') return true;
  const address = plainAddress(clientAddress);
  const family = isIP(address);
  if (family === 0) return false;
  const allowed = new BlockList();
  for (const rule of acls.ipRules) {
    const [base, prefix] = rule.split('/');
    const ruleFamily = isIP(base!) === 4 ? 'ipv4' : 'ipv6';
    allowed.addSubnet(base!, Number(prefix), ruleFamily);
  }
  return allowed.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The address a request comes from: the socket's peer, or the left-most X-Forwarded-For entry
 * appended by a proxy we trust. A forwarded-for header from anyone else is ignored, so a client
 * cannot claim another address.
 */
export function clientAddress(
  peer: string,
  forwardedFor: string | undefined,
  trustedProxies: readonly string[],
): string {
  const peerAddress = plainAddress(peer);
  if (!forwardedFor || !trustedProxies.includes(peerAddress)) return peerAddress;
  const hops = forwardedFor.split(',').map((hop) => hop.trim());
  // Walk back from the nearest hop while it is a trusted proxy; the first other address is the client.
  for (let index = hops.length - 1; index >= 0; index--) {
    const hop = plainAddress(hops[index]!);
    if (isIP(hop) === 0) return peerAddress;
    if (!trustedProxies.includes(hop)) return hop;
  }
  return peerAddress;
}
