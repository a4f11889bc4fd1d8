import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadAuditConfig } from './audit.js';

describe('audit configuration', () => {
  it('defaults to on, fail closed, one file sink under DATA_DIR/audit', () => {
    const config = loadAuditConfig(undefined, {}, '/data');
    assert.deepEqual(config, {
      enabled: true,
      failClosed: true,
      fsync: 'changes',
      syncIntervalMs: 50,
      dir: '/data/audit',
      checkpointIntervalSeconds: 60,
      hmacObjectNames: false,
      sinks: [{ type: 'file', dir: '/data/audit', maxFileKiB: 102400, rotateHours: 24, maxFiles: 0 }],
    });
  });

  it('takes the file, then the environment over it', () => {
    const config = loadAuditConfig(
      {
        failClosed: false,
        dir: 'logs',
        sinks: [{ type: 'syslog', transport: 'udp', port: 5514 }, { type: 'stdout' }],
      },
      { COFFER_AUDIT_HMAC_OBJECT_NAMES: 'true', COFFER_AUDIT_CHECKPOINT_INTERVAL_SECONDS: '10' },
      '/data',
    );
    assert.equal(config.failClosed, false);
    assert.equal(config.dir, '/data/logs');
    assert.equal(config.hmacObjectNames, true);
    assert.equal(config.checkpointIntervalSeconds, 10);
    assert.deepEqual(config.sinks, [
      { type: 'syslog', transport: 'udp', host: '127.0.0.1', port: 5514, facility: 13, appName: 'coffer' },
      { type: 'stdout' },
    ]);
    const fromEnv = loadAuditConfig(
      {},
      { COFFER_AUDIT_SINKS: '[{"type":"http","url":"https://siem.example/in"}]' },
      '/d',
    );
    assert.equal(fromEnv.sinks[0]!.type, 'http');
  });

  it('names the setting and what it accepts when one is wrong', () => {
    assert.throws(
      () => loadAuditConfig({ failclosed: true }, {}, '/d'),
      /unknown audit setting\(s\) failclosed/,
    );
    assert.throws(
      () => loadAuditConfig({}, { COFFER_AUDIT_FAIL_CLOSED: 'yes' }, '/d'),
      /audit.failClosed must be true or false/,
    );
    assert.throws(
      () => loadAuditConfig({ sinks: [{ type: 'kafka' }] }, {}, '/d'),
      /audit.sinks\[0\].type must be file, stdout, syslog or http/,
    );
    assert.throws(
      () => loadAuditConfig({ sinks: [{ type: 'syslog', port: 0 }] }, {}, '/d'),
      /port must be a whole number from 1 to 65535/,
    );
    assert.throws(
      () => loadAuditConfig({}, { COFFER_AUDIT_SINKS: '{' }, '/d'),
      /COFFER_AUDIT_SINKS must hold a JSON array/,
    );
  });
});
