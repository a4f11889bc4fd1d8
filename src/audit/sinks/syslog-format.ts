import os from 'node:os';
import type { SpooledEntry } from '../record.js';

export interface SyslogIdentity {
  /** RFC 5424 facility number, 0-23 (13: log audit). */
  facility: number;
  appName: string;
  hostname?: string;
}

const SEVERITY = { notice: 5, informational: 6 } as const;

/** RFC 5424 header fields: printable US-ASCII, no spaces, bounded; '-' when empty. */
function headerField(value: string, max: number): string {
  const cleaned = value.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return cleaned === '' ? '-' : cleaned;
}

/**
 * One record as an RFC 5424 syslog message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID
 * - MSG`, the MSG being the record's canonical JSON line. Failures are `notice`, everything
 * else `informational`; MSGID is the record's category (AuditEvent or AuditCheckpoint).
 */
export function syslogMessage(entry: SpooledEntry, identity: SyslogIdentity): string {
  const record = entry.record as { category: string; time: string; resultType?: string };
  const severity = record.resultType === 'Failure' ? SEVERITY.notice : SEVERITY.informational;
  const pri = identity.facility * 8 + severity;
  return [
    `<${pri}>1`,
    headerField(record.time, 64),
    headerField(identity.hostname ?? os.hostname(), 255),
    headerField(identity.appName, 48),
    String(process.pid),
    headerField(record.category, 32),
    '-',
    entry.line,
  ].join(' ');
}

/** RFC 6587 octet counting: the message's length in bytes, a space, the message. */
export function octetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}
