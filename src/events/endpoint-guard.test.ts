import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EndpointRefused, checkEndpoint, isPublicAddress, parseEndpoint } from './endpoint-guard.js';

const closed = { allowPrivateEndpoints: false, allowedHosts: [] };

describe('webhook endpoint guard (SSRF)', () => {
  it('refuses loopback, private, link-local (cloud metadata) and reserved addresses', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::ffff:169.254.169.254',
      'not-an-address',
    ])
      assert.equal(isPublicAddress(address), false, address);
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])
      assert.equal(isPublicAddress(address), true, address);
  });

  it('accepts only https URLs without credentials or fragments', () => {
    assert.equal(parseEndpoint('https://hooks.example.com/a?b=c').host, 'hooks.example.com');
    for (const bad of [
      'http://hooks.example.com/',
      'ftp://x/',
      'https://user:pw@x.example/',
      'https://x.example/#f',
      'nope',
    ])
      assert.throws(() => parseEndpoint(bad), EndpointRefused, bad);
  });

  it('refuses an IP literal or a name resolving to a private address unless allowed', async () => {
    await assert.rejects(checkEndpoint(closed, new URL('https://127.0.0.1:9/')), /not a public address/);
    await assert.rejects(checkEndpoint(closed, new URL('https://[::1]:9/')), /not a public address/);
    await assert.rejects(checkEndpoint(closed, new URL('https://localhost:9/')), /not a public address/);
    await checkEndpoint(
      { allowPrivateEndpoints: false, allowedHosts: ['localhost'] },
      new URL('https://localhost:9/'),
    );
    await checkEndpoint({ allowPrivateEndpoints: true, allowedHosts: [] }, new URL('https://127.0.0.1:9/'));
  });
});
