import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AuditConfig, AuditSinkConfig } from '../config/audit.js';
import { AuditBroker } from './broker.js';
import type { CheckpointSigner } from './checkpoint-key.js';
import { IndexSink } from './index/index-sink.js';
import { FileSink } from './sinks/file-sink.js';
import { HttpSink } from './sinks/http-sink.js';
import { StdoutSink } from './sinks/stdout-sink.js';
import { SyslogSink } from './sinks/syslog-sink.js';
import { Spool } from './spool.js';
import type { AuditLog, Sink } from './types.js';

const SPOOL_SEGMENT_BYTES = 64 * 1024 * 1024;

/** The audit log of one server: spool, broker, sinks and the query index, as configured. */
export interface AuditLogHandle {
  broker: AuditBroker;
  index: IndexSink;
  /** Where the checkpoint public key is published beside the log. */
  publicKeyFile: string;
  /** Called on unseal: publishes the public key and signs what the spool holds so far. */
  unsealed(signer: CheckpointSigner): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the audit log under `config.dir`: `spool/` (segments), `cursors/` (one per sink),
 * `index.db` (the query index) and, by default, the file sink's `audit-*.jsonl`.
 */
export async function openAuditLog(config: AuditConfig, log: AuditLog): Promise<AuditLogHandle> {
  mkdirSync(config.dir, { recursive: true, mode: 0o700 });
  const spool = await Spool.open({
    dir: path.join(config.dir, 'spool'),
    segmentBytes: SPOOL_SEGMENT_BYTES,
    sync: config.fsync,
    syncIntervalMs: config.syncIntervalMs,
    onDamage: (message) => log.error({ message }, 'audit spool damaged'),
  });
  const index = new IndexSink(path.join(config.dir, 'index.db'), config.workerIndexes);
  const broker = new AuditBroker({
    spool,
    sinks: [index, ...config.sinks.map(sinkFor)],
    cursorDir: path.join(config.dir, 'cursors'),
    log,
    failClosed: config.failClosed,
    checkpointIntervalMs: config.checkpointIntervalSeconds * 1000,
  });
  await broker.start();
  const publicKeyFile = path.join(config.dir, 'checkpoint-public-key.pem');
  return {
    broker,
    index,
    publicKeyFile,
    async unsealed(signer) {
      writeFileSync(publicKeyFile, signer.publicKeyPem, { mode: 0o644 });
      await broker.setSigner(signer, 'start').catch(() => undefined);
    },
    close: () => broker.close(),
  };
}

function sinkFor(config: AuditSinkConfig): Sink {
  switch (config.type) {
    case 'file':
      return new FileSink({
        dir: config.dir,
        maxFileBytes: config.maxFileKiB * 1024,
        rotateMs: config.rotateHours * 3600_000,
        maxFiles: config.maxFiles,
      });
    case 'stdout':
      return new StdoutSink();
    case 'syslog':
      return new SyslogSink(config);
    case 'http':
      return new HttpSink({
        url: config.url,
        headers: config.headers,
        batchSize: config.batchSize,
        timeoutMs: config.timeoutSeconds * 1000,
        caPem: config.caFile === undefined ? undefined : readFileSync(config.caFile, 'utf8'),
      });
  }
}
