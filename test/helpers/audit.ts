import dgram from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

/** What the audit e2e suites read: the records a server wrote, and receivers for its sinks. */

export interface Record {
  sequence: number;
  hash: string;
  previousHash: string;
  category: string;
  operationName?: string;
  correlationId?: string;
  resultType?: string;
  resourceId?: string;
  reason?: string;
  identity?: { claim: { [claim: string]: string } };
  properties?: { [name: string]: unknown; httpStatusCode?: number; id?: string };
}

export const OBJECT_ID_CLAIM = 'http://schemas.microsoft.com/identity/claims/objectidentifier';

/** Every record in the JSON-lines files of `dir` whose names match, in file-name order. */
export function readRecords(dir: string, pattern = /\.jsonl$/): Record[] {
  return readdirSync(dir)
    .filter((name) => pattern.test(name))
    .sort()
    .flatMap((name) => readFileSync(path.join(dir, name), 'utf8').split('\n').filter(Boolean))
    .map((line) => JSON.parse(line) as Record);
}

/** The spool: durable before each response, so a record is here the moment its answer arrives. */
export const spoolRecords = (dataDir: string) => readRecords(path.join(dataDir, 'audit', 'spool'));
/** The file sink's log files (audit-*.jsonl). */
export const logFiles = (dir: string) =>
  readdirSync(dir)
    .filter((name) => /^audit-\d{16}\.jsonl$/.test(name))
    .sort()
    .map((name) => path.join(dir, name));

/** One HTTP exchange an SDK client made, with the request id it sent. */
export interface Exchange {
  id: string;
  method: string;
  url: string;
  status: number;
}

/**
 * A pipeline policy for the Azure SDK clients that notes every request they send (after
 * retries are decided, so each attempt once) with its x-ms-client-request-id and status.
 */
export class RequestCapture {
  readonly exchanges: Exchange[] = [];
  readonly policy = {
    name: 'auditRequestCapture',
    sendRequest: async <
      Request extends { method: string; url: string; headers: { get(name: string): string | undefined } },
      Response extends { status: number },
    >(
      request: Request,
      next: (request: Request) => Promise<Response>,
    ): Promise<Response> => {
      const response = await next(request);
      this.exchanges.push({
        id: request.headers.get('x-ms-client-request-id') ?? '',
        method: request.method,
        url: request.url,
        status: response.status,
      });
      return response;
    },
  };
  /** Client options that add the policy and turn retries off (one attempt, one record). */
  get options() {
    return {
      additionalPolicies: [{ policy: this.policy, position: 'perRetry' as const }],
      retryOptions: { maxRetries: 0 },
    };
  }
  /** The exchanges made while `work` ran. */
  async during(work: () => Promise<unknown>): Promise<Exchange[]> {
    const start = this.exchanges.length;
    await work().catch(() => undefined);
    return this.exchanges.slice(start);
  }
}

/** A syslog receiver over TCP (RFC 6587 octet counting) on loopback. */
export function syslogTcpReceiver() {
  const messages: string[] = [];
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const start = () =>
    new Promise<number>((resolve) => {
      server = net.createServer((socket) => {
        sockets.add(socket);
        let buffer = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => {
          buffer = Buffer.concat([buffer, chunk]);
          for (let space = buffer.indexOf(0x20); space >= 0; space = buffer.indexOf(0x20)) {
            const length = Number(buffer.subarray(0, space).toString('ascii'));
            if (buffer.length < space + 1 + length) break;
            messages.push(buffer.subarray(space + 1, space + 1 + length).toString('utf8'));
            buffer = buffer.subarray(space + 1 + length);
          }
        });
        socket.on('close', () => sockets.delete(socket));
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve(port);
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (server) server.close(() => resolve());
      else resolve();
    });
  return { messages, start, stop, port: () => port };
}

/** A syslog receiver over UDP on loopback. */
export async function syslogUdpReceiver() {
  const messages: string[] = [];
  const socket = dgram.createSocket('udp4');
  socket.on('message', (message) => messages.push(message.toString('utf8')));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return { messages, port: socket.address().port, stop: () => socket.close() };
}

/** An HTTP collector on loopback that takes POSTed JSON arrays of records (and can be down). */
export function httpCollector() {
  const bodies: string[] = [];
  let server: http.Server | undefined;
  let port = 0;
  const start = () =>
    new Promise<number>((resolve) => {
      server = http.createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        request.on('end', () => {
          bodies.push(body);
          response.writeHead(200).end();
        });
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve(port);
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  const records = () => bodies.flatMap((body) => JSON.parse(body) as Record[]);
  return { bodies, records, start, stop, port: () => port, url: () => `http://127.0.0.1:${port}/ingest` };
}

/** The record carried by an RFC 5424 message (its MSG is the record's JSON line). */
export function syslogRecord(message: string): Record {
  const match = /^<\d{1,3}>1 \S+ \S+ \S+ \d+ (AuditEvent|AuditCheckpoint) - (\{.*\})$/.exec(message);
  if (!match) throw new Error(`not an RFC 5424 audit message: ${message.slice(0, 120)}`);
  return JSON.parse(match[2]!) as Record;
}

export async function eventually(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The newest record a service wrote on its own (`operationName` is the event: a permission model
 * change, a purge by the sweep) about a vault, once it is in the spool. Such records are written
 * beside the request's own record, not before its answer, so this waits a little for them.
 */
export async function serviceEventRecord(
  dataDir: string,
  event: string,
  vault: string,
  timeoutMs = 10_000,
): Promise<Record> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = spoolRecords(dataDir)
      .filter((record) => record.operationName === event && record.resourceId === `/vaults/${vault}`)
      .at(-1);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no ${event} record for vault ${vault} in the spool`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** What a service event record says changed (its `properties.change`). */
export function changeOf(record: Record): { [field: string]: string } {
  return (record.properties?.['change'] ?? {}) as { [field: string]: string };
}
