import path from 'node:path';
import type { WorkerIndexes } from '../audit/index/worker-indexes.js';
import type { SpoolSync } from '../audit/spool.js';

/** Where one sink sends the audit log (README, "Audit log"). */
export type AuditSinkConfig =
  | { type: 'file'; dir: string; maxFileKiB: number; rotateHours: number; maxFiles: number }
  | { type: 'stdout' }
  | {
      type: 'syslog';
      transport: 'tcp' | 'udp';
      host: string;
      port: number;
      facility: number;
      appName: string;
    }
  | {
      type: 'http';
      url: string;
      headers: Record<string, string>;
      batchSize: number;
      timeoutSeconds: number;
      caFile: string | undefined;
    };

export interface AuditConfig {
  enabled: boolean;
  /** Refuse requests (503) while the spool cannot be written; false serves them unaudited. */
  failClosed: boolean;
  /**
   * When a record must be on the disk (README, "Audit log"): `always` before every response;
   * `changes` (default) before the response to a change, a read's within `syncIntervalMs`
   * (every record is in the page cache, which survives kill -9, before its response);
   * `never` leaves the write-back to the OS.
   */
  fsync: SpoolSync;
  /** With `fsync: changes`: the longest a read's record waits before it is synced. */
  syncIntervalMs: number;
  /** The spool, the query index and the sinks' cursors; the default file sink writes here too. */
  dir: string;
  checkpointIntervalSeconds: number;
  /** Records show secret, key and certificate names as HMACs. */
  hmacObjectNames: boolean;
  sinks: AuditSinkConfig[];
  /**
   * Not a setting: a worker of `coffer server --workers N` is given every worker's query index
   * (src/supervisor/worker.ts), so that an audit query answers for all of them.
   */
  workerIndexes?: WorkerIndexes;
}

/** Environment variables for the `audit` settings; COFFER_AUDIT_SINKS holds the sinks as JSON. */
export const AUDIT_ENVIRONMENT = {
  enabled: 'COFFER_AUDIT_ENABLED',
  failClosed: 'COFFER_AUDIT_FAIL_CLOSED',
  fsync: 'COFFER_AUDIT_FSYNC',
  syncIntervalMs: 'COFFER_AUDIT_SYNC_INTERVAL_MS',
  dir: 'COFFER_AUDIT_DIR',
  checkpointIntervalSeconds: 'COFFER_AUDIT_CHECKPOINT_INTERVAL_SECONDS',
  hmacObjectNames: 'COFFER_AUDIT_HMAC_OBJECT_NAMES',
  sinks: 'COFFER_AUDIT_SINKS',
} as const;

type Raw = Record<string, unknown>;

/**
 * The `audit` object of the config file, with COFFER_AUDIT_* variables over it. Defaults: on,
 * fail closed, under DATA_DIR/audit, a checkpoint a minute, one file sink in that directory.
 */
export function loadAuditConfig(fromFile: unknown, env: NodeJS.ProcessEnv, dataDir: string): AuditConfig {
  if (
    fromFile !== undefined &&
    (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile))
  )
    throw new Error('audit must be an object (see the README, "Audit log")');
  const file = (fromFile ?? {}) as Raw;
  const known = Object.keys(AUDIT_ENVIRONMENT);
  const unknown = Object.keys(file).filter((key) => !known.includes(key));
  if (unknown.length > 0)
    throw new Error(`unknown audit setting(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
  const setting = (key: keyof typeof AUDIT_ENVIRONMENT): unknown => {
    const fromEnv = env[AUDIT_ENVIRONMENT[key]];
    return fromEnv !== undefined && fromEnv !== '' ? fromEnv : file[key];
  };
  const dir = path.resolve(dataDir, text('audit.dir', setting('dir')) ?? 'audit');
  const sinksSetting = setting('sinks');
  const sinks =
    typeof sinksSetting === 'string' ? parseJson(AUDIT_ENVIRONMENT.sinks, sinksSetting) : sinksSetting;
  return {
    enabled: flag('audit.enabled', setting('enabled'), true),
    failClosed: flag('audit.failClosed', setting('failClosed'), true),
    fsync: fsyncMode(setting('fsync')),
    syncIntervalMs: integer('audit.syncIntervalMs', setting('syncIntervalMs'), 50, 1, 10_000),
    dir,
    checkpointIntervalSeconds: integer(
      'audit.checkpointIntervalSeconds',
      setting('checkpointIntervalSeconds'),
      60,
      1,
      86400,
    ),
    hmacObjectNames: flag('audit.hmacObjectNames', setting('hmacObjectNames'), false),
    sinks: sinks === undefined ? [defaultFileSink(dir)] : sinkList(sinks, dir),
  };
}

function defaultFileSink(dir: string): AuditSinkConfig {
  return { type: 'file', dir, maxFileKiB: 100 * 1024, rotateHours: 24, maxFiles: 0 };
}

function sinkList(value: unknown, auditDir: string): AuditSinkConfig[] {
  if (!Array.isArray(value)) throw new Error('audit.sinks must be an array of sinks');
  return value.map((item: unknown, index) => {
    const where = `audit.sinks[${index}]`;
    if (typeof item !== 'object' || item === null) throw new Error(`${where} must be an object`);
    const sink = item as Raw;
    const allow = (...keys: string[]) => {
      const extra = Object.keys(sink).filter((key) => key !== 'type' && !keys.includes(key));
      if (extra.length > 0)
        throw new Error(`${where}: unknown setting(s) ${extra.join(', ')}; known: ${keys.join(', ')}`);
    };
    switch (sink['type']) {
      case 'file':
        allow('dir', 'maxFileKiB', 'rotateHours', 'maxFiles');
        return {
          type: 'file',
          dir: path.resolve(auditDir, text(`${where}.dir`, sink['dir']) ?? '.'),
          maxFileKiB: integer(`${where}.maxFileKiB`, sink['maxFileKiB'], 100 * 1024, 1, 16 * 1024 * 1024),
          rotateHours: integer(`${where}.rotateHours`, sink['rotateHours'], 24, 1, 24 * 366),
          maxFiles: integer(`${where}.maxFiles`, sink['maxFiles'], 0, 0, 1_000_000),
        };
      case 'stdout':
        allow();
        return { type: 'stdout' };
      case 'syslog': {
        allow('transport', 'host', 'port', 'facility', 'appName');
        const transport = sink['transport'] ?? 'tcp';
        if (transport !== 'tcp' && transport !== 'udp')
          throw new Error(`${where}.transport must be tcp or udp`);
        return {
          type: 'syslog',
          transport,
          host: text(`${where}.host`, sink['host']) ?? '127.0.0.1',
          port: integer(`${where}.port`, sink['port'], 514, 1, 65535),
          facility: integer(`${where}.facility`, sink['facility'], 13, 0, 23),
          appName: text(`${where}.appName`, sink['appName']) ?? 'coffer',
        };
      }
      case 'http': {
        allow('url', 'headers', 'batchSize', 'timeoutSeconds', 'caFile');
        const url = text(`${where}.url`, sink['url']);
        if (!url || !/^https?:\/\//.test(url))
          throw new Error(`${where}.url must be an http:// or https:// URL`);
        return {
          type: 'http',
          url,
          headers: headers(`${where}.headers`, sink['headers']),
          batchSize: integer(`${where}.batchSize`, sink['batchSize'], 100, 1, 10_000),
          timeoutSeconds: integer(`${where}.timeoutSeconds`, sink['timeoutSeconds'], 10, 1, 300),
          caFile: text(`${where}.caFile`, sink['caFile']),
        };
      }
      default:
        throw new Error(`${where}.type must be file, stdout, syslog or http`);
    }
  });
}

/** `always`, `changes` or `never`; true and false (the setting's earlier form) mean always and never. */
function fsyncMode(value: unknown): SpoolSync {
  if (value === undefined) return 'changes';
  if (value === true || value === 'true') return 'always';
  if (value === false || value === 'false') return 'never';
  if (value === 'always' || value === 'changes' || value === 'never') return value;
  throw new Error(`audit.fsync must be always, changes or never; got '${String(value)}'.`);
}

/** A true/false setting (config files hold booleans, the environment strings). */
export function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`${name} must be true or false; got '${String(value)}'.`);
}

/** A whole-number setting within bounds. */
export function integer(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max)
    throw new Error(`${name} must be a whole number from ${min} to ${max}; got '${String(value)}'.`);
  return number;
}

function text(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new Error(`${name} must be a non-empty string.`);
  return value;
}

function headers(name: string, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${name} must be an object of header names to values.`);
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string' || !/^[A-Za-z0-9-]+$/.test(key))
      throw new Error(`${name}: header '${key.slice(0, 40)}' must be a token name with a string value.`);
  }
  return value as Record<string, string>;
}

function parseJson(name: string, textValue: string): unknown {
  try {
    return JSON.parse(textValue);
  } catch {
    throw new Error(`${name} must hold a JSON array of sinks.`);
  }
}
