import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { needsRefresh, REFRESH_MARGIN_S } from './token-source.js';

describe('agent token cache', () => {
  it('hands out a cached token until five minutes before it expires, then refreshes it', () => {
    const expiresOn = 1_800_000_000;
    const token = { accessToken: 't', expiresOn };
    const at = (seconds: number) => seconds * 1000;
    assert.equal(needsRefresh(token, at(expiresOn - 3600)), false, 'just issued');
    assert.equal(needsRefresh(token, at(expiresOn - REFRESH_MARGIN_S - 1)), false);
    assert.equal(needsRefresh(token, at(expiresOn - REFRESH_MARGIN_S)), true, 'near expiry');
    assert.equal(needsRefresh(token, at(expiresOn + 10)), true, 'expired');
  });
});
