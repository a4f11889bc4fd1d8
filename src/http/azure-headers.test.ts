import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { networkInfo } from './azure-headers.js';

describe('x-ms-keyvault-network-info', () => {
  it('names the address family as Key Vault does', () => {
    assert.equal(networkInfo('203.0.113.7'), 'conn_type=Ipv4;addr=203.0.113.7;act_addr_fam=InterNetwork;');
    assert.equal(networkInfo('2001:db8::1'), 'conn_type=Ipv6;addr=2001:db8::1;act_addr_fam=InterNetworkV6;');
  });
});
