import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import {
  type Exchange,
  eventually,
  httpCollector,
  logFiles,
  readRecords,
  RequestCapture,
  spoolRecords,
  syslogRecord,
  syslogTcpReceiver,
} from './helpers/audit.js';
import { cofferCli } from './helpers/coffer-cli.js';
import { freePort } from './helpers/production-server.js';
import {
  cofferBin,
  credentialFor,
  type DevFacts,
  repoRoot,
  type ServerProcess,
  spawnCoffer,
  startDevServer,
} from './helpers/server-process.js';
import { execFile } from 'node:child_process';

// The audit log survives what the store survives: kill -9 in the middle of a load loses no
// record of an answered request, the chain carries on across the crash and verifies, and sinks
// that were down (or cut off by the crash) catch up from their cursors.

describe('audit log durability and catch-up (dev server)', () => {
  let dataDir: string;
  let port: number;
  let facts: DevFacts;
  let current: ServerProcess;
  let env: NodeJS.ProcessEnv;
  const tcp = syslogTcpReceiver();
  const collector = httpCollector();

  before(async () => {
    await tcp.start();
    await collector.start();
    port = await freePort();
    env = {
      COFFER_AUDIT_SINKS: JSON.stringify([
        { type: 'file' },
        { type: 'syslog', transport: 'tcp', port: tcp.port() },
        { type: 'http', url: collector.url(), batchSize: 50, timeoutSeconds: 2 },
      ]),
    };
    const server = await startDevServer({ port, env });
    dataDir = server.dataDir;
    facts = server.facts;
    current = server.process;
  });

  after(async () => {
    if (current.child.exitCode === null && current.child.signalCode === null) await current.stop('SIGTERM');
    await tcp.stop();
    await collector.stop();
  });

  const head = () => Math.max(...spoolRecords(dataDir).map((record) => record.sequence));
  const received = () => ({
    http: new Set(collector.records().map((record) => record.sequence)),
    syslog: new Set(tcp.messages.map((message) => syslogRecord(message).sequence)),
  });
  const allUpTo = (set: Set<number>, last: number) =>
    Array.from({ length: last }, (_, i) => i + 1).every((s) => set.has(s));

  it('syslog and HTTP sinks that were down catch up when they return, and requests never waited for them', async () => {
    const secrets = new SecretClient(
      facts.vaultUrl,
      credentialFor(facts, facts.clientId, facts.clientSecret),
    );
    await secrets.setSecret('before-outage', 'v');
    await eventually(
      () => allUpTo(received().http, head()) && allUpTo(received().syslog, head()),
      'delivery before the outage',
    );

    await tcp.stop();
    await collector.stop();
    const started = Date.now();
    for (let index = 0; index < 20; index++) await secrets.setSecret(`during-outage-${index}`, 'v');
    assert.ok(Date.now() - started < 15_000, 'requests went on while both sinks were down');
    const status = await cofferCli(dataDir, ['audit', 'status', '--output', 'json']);
    const sinks = (
      JSON.parse(status.stdout) as { sinks: Array<{ name: string; lag: number; lastError?: string }> }
    ).sinks;
    const behind = sinks.filter((sink) => sink.name.startsWith('syslog') || sink.name.startsWith('http'));
    assert.equal(behind.length, 2);
    for (const sink of behind)
      assert.ok(sink.lag > 0 && sink.lastError, `${sink.name} is behind and says why`);

    await tcp.start();
    await collector.start();
    const last = head();
    await eventually(
      () => allUpTo(received().http, last) && allUpTo(received().syslog, last),
      'the catch-up',
      60_000,
    );
  });

  it('kill -9 during a load: every answered request has its record, the chain verifies across the crash, sinks resume', async () => {
    const capture = new RequestCapture();
    const answered: Exchange[] = [];
    let stopping = false;
    const loop = async (index: number) => {
      const client = new SecretClient(
        facts.vaultUrl,
        credentialFor(facts, facts.clientId, facts.clientSecret),
        capture.options,
      );
      for (let i = 0; !stopping; i++) {
        try {
          if (i % 2 === 0) await client.setSecret(`load-${index}`, randomBytes(12).toString('base64url'));
          else await client.getSecret(`load-${index}`);
        } catch {
          return;
        }
        if (capture.exchanges.length >= 300 && !stopping) {
          stopping = true;
          current.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, index) => loop(index)));
    answered.push(...capture.exchanges);
    await current.stop();
    assert.equal(current.child.signalCode, 'SIGKILL');
    assert.ok(answered.length >= 300);

    current = spawnCoffer(['server', '--dev', '--data-dir', dataDir, '--port', String(port)], env);
    await current.waitForOutput(/"caFile": "[^"]+"/);
    const onRecord = new Set(spoolRecords(dataDir).map((record) => record.correlationId));
    const missing = answered.filter((exchange) => !onRecord.has(exchange.id));
    assert.deepEqual(missing, [], `${missing.length} of ${answered.length} answered requests have no record`);

    const last = head();
    await eventually(
      () => allUpTo(received().http, last) && allUpTo(received().syslog, last),
      'the sinks after the restart',
      60_000,
    );
    const key = await cofferCli(dataDir, ['audit', 'public-key']);
    const keyFile = path.join(dataDir, 'trusted-key.pem');
    writeFileSync(keyFile, key.stdout);
    assert.equal(await current.stop('SIGTERM'), 0);

    const files = logFiles(path.join(dataDir, 'audit'));
    const inFiles = new Set(
      readRecords(path.join(dataDir, 'audit'), /^audit-\d{16}\.jsonl$/).map((record) => record.correlationId),
    );
    assert.deepEqual(
      answered.filter((exchange) => !inFiles.has(exchange.id)),
      [],
      'the file sink caught up too',
    );
    const verify = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [cofferBin, 'audit', 'verify', ...files, '--public-key', keyFile],
        { cwd: repoRoot },
        (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }),
      ),
    );
    assert.equal(verify.code, 0, verify.stderr);
    assert.ok(readFileSync(keyFile, 'utf8').includes('BEGIN PUBLIC KEY'));
  });
});
