import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadParameter } from '../errors/index.js';
import { API_VERSIONS, checkApiVersion } from './api-version.js';

describe('api-version', () => {
  it('accepts the versions released SDKs send: previews, the old GA versions and the dated previews', () => {
    for (const version of [
      '2015-06-01',
      '2016-10-01',
      '7.2-preview',
      '7.3-preview',
      '7.4-preview.1',
      '7.5-preview.1',
      '7.6-preview.2',
      '2025-06-01-preview',
      '7.6',
      '2025-07-01',
      '2026-04-01',
    ]) {
      assert.equal(checkApiVersion({ 'api-version': version }), version);
    }
  });

  it('says for every version where it was seen, once', () => {
    const versions = API_VERSIONS.map((entry) => entry.version);
    assert.equal(new Set(versions).size, versions.length, 'no version twice');
    for (const entry of API_VERSIONS) {
      assert.ok(entry.seenIn.length > 10, `${entry.version} names an SDK release or a spec path`);
      assert.equal(entry.preview, entry.version.includes('preview'), entry.version);
    }
  });

  it('refuses an unknown or missing version with 400 BadParameter naming the supported ones', () => {
    for (const version of ['7.7', '2016-10-02', '7.4-preview.2', '7.6-preview', 'latest', ' 7.6']) {
      assert.throws(
        () => checkApiVersion({ 'api-version': version }),
        (error: unknown) =>
          error instanceof BadParameter && /Supported versions: 2015-06-01, /.test(error.message),
        version,
      );
    }
    for (const query of [{}, { 'api-version': '' }, { 'api-version': ['7.6', '7.5'] }]) {
      assert.throws(() => checkApiVersion(query), /api-version query parameter is missing/);
    }
  });
});
