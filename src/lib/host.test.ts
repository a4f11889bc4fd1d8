import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { httpsOrigin, parseHostHeader } from './host.js';

describe('Host header parsing (RFC 3986 host and port)', () => {
  it('accepts names, IPv4 and bracketed IPv6, with an optional port from 1 to 65535', () => {
    assert.deepEqual(parseHostHeader('Dev.Vault.LOCALHOST:8443'), {
      host: 'dev.vault.localhost',
      port: 8443,
    });
    assert.deepEqual(parseHostHeader('localhost'), { host: 'localhost' });
    assert.deepEqual(parseHostHeader('127.0.0.1:1'), { host: '127.0.0.1', port: 1 });
    assert.deepEqual(parseHostHeader('[::1]:65535'), { host: '[::1]', port: 65535 });
    assert.deepEqual(parseHostHeader('[2001:DB8::1]'), { host: '[2001:db8::1]' });
    assert.deepEqual(parseHostHeader('a%2eb:0443'), { host: 'a%2eb', port: 443 });
    assert.equal(httpsOrigin({ host: '[::1]', port: 8443 }), 'https://[::1]:8443');
    assert.equal(httpsOrigin({ host: 'localhost' }), 'https://localhost');
  });

  it('refuses userinfo, paths, extra colons, bad ports, zone ids and IPvFuture', () => {
    for (const value of [
      undefined,
      '',
      'dev.vault.localhost:1@evil.example',
      'user@host',
      'host/path',
      'host:1:2',
      'host:',
      'host:0',
      'host:65536',
      'host:123456',
      'host:-1',
      'host: 1',
      'a b',
      'a%2',
      '[::1',
      '[::1]x',
      '[::1]:',
      '[fe80::1%eth0]',
      '[v1.future]',
      '[1.2.3.4]',
      'x'.repeat(301),
    ]) {
      assert.equal(parseHostHeader(value), undefined, String(value));
    }
  });
});
