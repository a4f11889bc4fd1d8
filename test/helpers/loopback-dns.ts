import dns from 'node:dns';

/**
 * Node's resolver does not map `*.localhost` to loopback (CONTRACT section 3), so test
 * processes answer those names themselves, always with 127.0.0.1 where the servers listen.
 */
type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

const original = dns.lookup;
const patched = (hostname: string, options: unknown, callback?: unknown): void => {
  const done = (typeof options === 'function' ? options : callback) as LookupCallback;
  const opts = (typeof options === 'object' && options !== null ? options : {}) as dns.LookupOptions;
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) {
    if (opts.all) done(null, [{ address: '127.0.0.1', family: 4 }]);
    else done(null, '127.0.0.1', 4);
    return;
  }
  (original as (...args: unknown[]) => void)(hostname, options, callback);
};
(dns as { lookup: unknown }).lookup = patched;
