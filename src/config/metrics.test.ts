import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadAlertsConfig, loadMetricsConfig } from './metrics.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'metrics-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TOKEN = 'a'.repeat(20) + 'B'.repeat(20);
const digest = createHash('sha256').update(TOKEN).digest();

describe('metrics and alerts settings', () => {
  it('takes the scrape token as a hash, a file or the environment, and keeps only its SHA-256', () => {
    const file = path.join(dir, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    for (const config of [
      loadMetricsConfig({ scrapeTokenSha256: digest.toString('hex') }, {}),
      loadMetricsConfig({ scrapeTokenFile: file }, {}),
      loadMetricsConfig({}, { COFFER_METRICS_SCRAPE_TOKEN: TOKEN }),
    ])
      assert.deepEqual(config.scrapeTokenSha256, digest);
    assert.equal(loadMetricsConfig(undefined, {}).scrapeTokenSha256, undefined);
  });

  it('refuses a short token, two sources at once, a malformed hash and unknown keys, without echoing the token', () => {
    const refusals: Array<() => unknown> = [
      () => loadMetricsConfig({}, { COFFER_METRICS_SCRAPE_TOKEN: 'short-token' }),
      () =>
        loadMetricsConfig(
          { scrapeTokenSha256: digest.toString('hex') },
          { COFFER_METRICS_SCRAPE_TOKEN: TOKEN },
        ),
      () => loadMetricsConfig({ scrapeTokenSha256: 'abc' }, {}),
      () => loadMetricsConfig({ scrapeToken: TOKEN }, {}),
    ];
    for (const refusal of refusals) {
      assert.throws(
        refusal,
        (error: Error) => !error.message.includes(TOKEN) && !error.message.includes('short-token'),
      );
    }
  });

  it('reads alert thresholds from the file and the environment, 0 turning a count rule off', () => {
    const config = loadAlertsConfig(
      { refusedThreshold: 7, newAddress: false },
      { COFFER_ALERTS_DISTINCT_SECRETS_THRESHOLD: '0' },
    );
    assert.equal(config.refusedThreshold, 7);
    assert.equal(config.refusedWindowSeconds, 60);
    assert.equal(config.distinctSecretsThreshold, 0);
    assert.equal(config.newAddress, false);
    assert.throws(() => loadAlertsConfig({ refusedWindowSeconds: 0 }, {}), /refusedWindowSeconds/);
  });
});
