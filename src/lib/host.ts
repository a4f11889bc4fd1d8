import { isIPv6 } from 'node:net';

/** A request's authority as parsed from its Host header: lower case, a port only when one was given. */
export interface Authority {
  /** A registered name or IPv4 address, or an IPv6 literal in brackets (`[::1]`). */
  host: string;
  port?: number;
}

/** RFC 3986 reg-name: unreserved characters, percent-encoded octets and sub-delims (no ':', '@', '/'). */
const REG_NAME = /^(?:[a-z0-9\-._~!$&'()*+,;=]|%[0-9a-f]{2})+$/i;
const PORT = /^:([0-9]{1,5})$/;
/** Longer than any DNS name (253) with a port: nothing real is refused, nothing huge is parsed. */
const MAX_LENGTH = 300;

/**
 * Parses a Host header as RFC 3986's `host [":" port]`, with a port from 1 to 65535; undefined
 * for anything else (userinfo, paths, a second colon, IPvFuture, IPv6 zone ids). Whatever
 * follows the host is never copied anywhere: URLs are built from the parsed pair only.
 */
export function parseHostHeader(value: string | undefined): Authority | undefined {
  if (!value || value.length > MAX_LENGTH) return undefined;
  let host: string;
  let rest: string;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    const literal = value.slice(1, end);
    // node:net accepts zone ids (`fe80::1%eth0`); a URL has no place for them here.
    if (end < 0 || literal.includes('%') || !isIPv6(literal)) return undefined;
    host = `[${literal.toLowerCase()}]`;
    rest = value.slice(end + 1);
  } else {
    const colon = value.indexOf(':');
    host = colon < 0 ? value : value.slice(0, colon);
    rest = colon < 0 ? '' : value.slice(colon);
    if (!REG_NAME.test(host)) return undefined;
    host = host.toLowerCase();
  }
  if (rest === '') return { host };
  const port = Number(PORT.exec(rest)?.[1] ?? NaN);
  return port >= 1 && port <= 65535 ? { host, port } : undefined;
}

/** `https://host[:port]`, the base of every URL a response carries. */
export function httpsOrigin(authority: Authority): string {
  return `https://${authority.host}${authority.port === undefined ? '' : `:${authority.port}`}`;
}
