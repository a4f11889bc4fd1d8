import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Where webhooks may point (docs/events.md, "Which endpoints are allowed"). */
export interface EndpointPolicy {
  allowPrivateEndpoints: boolean;
  allowedHosts: readonly string[];
}

export class EndpointRefused extends Error {
  override name = 'EndpointRefused';
}

/**
 * Addresses a webhook may not reach by default: the server's own host, private networks, cloud
 * metadata (169.254.169.254 is link-local), carrier-grade NAT, documentation, multicast and
 * reserved ranges. A subscriber could otherwise make the vault probe or call what only it can reach.
 */
const NOT_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv6');

/** True for an address on the public internet. IPv4-mapped IPv6 addresses are judged as IPv4. */
export function isPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return !NOT_PUBLIC.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return false;
  return !NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The URL's shape: HTTPS, no credentials in it, bounded. Throws with what to fix. */
export function parseEndpoint(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new EndpointRefused('endpoint must be an absolute URL such as https://hooks.example.com/coffer.');
  }
  if (url.protocol !== 'https:')
    throw new EndpointRefused('endpoint must be an https:// URL: events are only delivered over TLS.');
  if (url.username || url.password)
    throw new EndpointRefused(
      'endpoint must not carry a user name or password: they would be shown wherever the subscription is.',
    );
  if (url.hash) throw new EndpointRefused('endpoint must not have a #fragment.');
  return url;
}

const bare = (host: string) => host.replace(/^\[|\]$/g, '').toLowerCase();

/**
 * Checks one resolved address against the policy; the caller connects to exactly that address,
 * so a name that resolves elsewhere on a second lookup (DNS rebinding) changes nothing.
 */
function refusal(policy: EndpointPolicy, host: string, address: string): string | undefined {
  if (policy.allowPrivateEndpoints || policy.allowedHosts.includes(bare(host))) return undefined;
  if (isPublicAddress(address)) return undefined;
  return `${bare(host)} resolves to ${address}, which is not a public address; allow it with events.allowedHosts or events.allowPrivateEndpoints (docs/events.md)`;
}

/** For an IP literal host, which never goes through a lookup. */
export function checkLiteralHost(policy: EndpointPolicy, url: URL): void {
  const host = bare(url.hostname);
  if (isIP(host) === 0) return;
  const reason = refusal(policy, host, host);
  if (reason) throw new EndpointRefused(reason);
}

/** A `lookup` for https.request that resolves, then refuses any address the policy does not allow. */
export function guardedLookup(policy: EndpointPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list = addresses;
      for (const { address } of list) {
        const reason = refusal(policy, hostname, address);
        if (reason) return callback(new EndpointRefused(reason), '', 0);
      }
      const first = list[0];
      if (!first) return callback(new EndpointRefused(`${hostname} has no address`), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      callback(null, first.address, first.family);
    });
  };
}

/** Resolves the endpoint once to refuse a disallowed one when the subscription is made. */
export async function checkEndpoint(policy: EndpointPolicy, url: URL): Promise<void> {
  checkLiteralHost(policy, url);
  if (isIP(bare(url.hostname)) !== 0) return;
  const lookup = guardedLookup(policy);
  await new Promise<void>((resolve, reject) =>
    lookup(url.hostname, {}, (error) => (error ? reject(error) : resolve())),
  );
}
