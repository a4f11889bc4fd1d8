import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { AuditBroker } from '../broker.js';
import { Spool } from '../spool.js';
import { eventBody } from '../test-log.js';
import type { AuditLog, Sink } from '../types.js';
import { FileSink } from './file-sink.js';
import { HttpSink } from './http-sink.js';
import { SyslogSink } from './syslog-sink.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'audit-sinks-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let count = 0;
const quiet: AuditLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function brokerWith(sink: Sink, dir = path.join(scratch, `case-${++count}`)) {
  const spool = await Spool.open({ dir: path.join(dir, 'spool'), segmentBytes: 1 << 20, sync: 'always' });
  const broker = new AuditBroker({
    spool,
    sinks: [sink],
    cursorDir: path.join(dir, 'cursors'),
    log: quiet,
    failClosed: true,
    checkpointIntervalMs: 3_600_000,
  });
  await broker.start();
  return broker;
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const RFC5424 = /^<(\d{1,3})>1 (\S+) (\S+) coffer (\d+) (AuditEvent|AuditCheckpoint) - (\{.*\})$/;

/** A syslog receiver on loopback: TCP with octet counting, the sequences it got, in order. */
function tcpReceiver(port = 0) {
  const messages: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const space = buffer.indexOf(0x20);
        if (space < 0) return;
        const length = Number(buffer.subarray(0, space).toString('ascii'));
        if (buffer.length < space + 1 + length) return;
        messages.push(buffer.subarray(space + 1, space + 1 + length).toString('utf8'));
        buffer = buffer.subarray(space + 1 + length);
      }
    });
    socket.on('close', () => sockets.delete(socket));
  });
  return {
    messages,
    listen: () =>
      new Promise<number>((resolve) =>
        server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
      ),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const sequences = (messages: string[]) => [
  ...new Set(
    messages.map((message) => (JSON.parse(RFC5424.exec(message)![6]!) as { sequence: number }).sequence),
  ),
];

describe('audit sinks', () => {
  it('syslog over TCP: RFC 5424 messages with octet counting, caught up after the receiver was down', async () => {
    const receiver = tcpReceiver();
    const port = await receiver.listen();
    const broker = await brokerWith(
      new SyslogSink({ transport: 'tcp', host: '127.0.0.1', port, facility: 13, appName: 'coffer' }),
    );
    for (let index = 0; index < 5; index++) await broker.record(eventBody(`Before${index}`));
    await until(() => receiver.messages.length >= 5, 'the first records');
    const match = RFC5424.exec(receiver.messages[0]!);
    assert.ok(match, `RFC 5424: ${receiver.messages[0]}`);
    assert.equal(Number(match[1]), 13 * 8 + 6, 'facility log audit, severity informational');

    await receiver.stop();
    for (let index = 0; index < 5; index++) await broker.record(eventBody(`During${index}`));
    const again = tcpReceiver(port);
    await again.listen();
    await until(
      () => sequences([...receiver.messages, ...again.messages]).length >= 10,
      'the catch-up',
      40_000,
    );
    assert.deepEqual(
      sequences([...receiver.messages, ...again.messages]).sort((a, b) => a - b),
      Array.from({ length: 10 }, (_, index) => index + 1),
      'every record arrived, at least once',
    );
    await broker.close(1000);
    await again.stop();
  });

  it('syslog over UDP: one RFC 5424 datagram per record', async () => {
    const socket = dgram.createSocket('udp4');
    const messages: string[] = [];
    socket.on('message', (message) => messages.push(message.toString('utf8')));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const port = socket.address().port;
    const broker = await brokerWith(
      new SyslogSink({ transport: 'udp', host: '127.0.0.1', port, facility: 10, appName: 'coffer' }),
    );
    await broker.record(eventBody('One', { resultType: 'Failure' }));
    await broker.record(eventBody('Two'));
    await until(() => messages.length >= 2, 'two datagrams');
    assert.equal(Number(RFC5424.exec(messages[0]!)![1]), 10 * 8 + 5, 'a failure is a notice');
    assert.deepEqual(sequences(messages), [1, 2]);
    await broker.close(1000);
    socket.close();
  });

  it('HTTP: batched POSTs of JSON arrays, retried until the collector takes them', async () => {
    const received: Array<{ sequence: number }> = [];
    let failuresLeft = 3;
    let authorization: string | undefined;
    const server = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        authorization = request.headers.authorization;
        if (failuresLeft-- > 0) {
          response.writeHead(503).end();
          return;
        }
        received.push(...(JSON.parse(body) as Array<{ sequence: number }>));
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/ingest`;
    const broker = await brokerWith(
      new HttpSink({ url, headers: { authorization: 'Bearer collector' }, batchSize: 2, timeoutMs: 5000 }),
    );
    for (let index = 0; index < 5; index++) await broker.record(eventBody(`Op${index}`));
    await until(() => received.length >= 5, 'five records at the collector', 30_000);
    assert.deepEqual(
      received.map((record) => record.sequence),
      [1, 2, 3, 4, 5],
    );
    assert.equal(authorization, 'Bearer collector');
    // The sink counts a batch delivered once the collector's answer is read, a moment after the
    // collector has it.
    await until(() => broker.stats().sinks[0]!.lag === 0, 'the HTTP sink caught up');
    await broker.close(1000);
    server.close();
  });

  it('file: 0600 files named by their first record, rotated by size, never a record twice after a restart', async () => {
    const dir = path.join(scratch, `file-${++count}`);
    const options = { dir: path.join(dir, 'log'), maxFileBytes: 1500, rotateMs: 3_600_000, maxFiles: 0 };
    const first = await brokerWith(new FileSink(options), dir);
    for (let index = 0; index < 6; index++) await first.record(eventBody(`Op${index}`));
    await until(() => first.stats().sinks[0]!.lag === 0, 'the file sink');
    await first.close(1000);
    // A restart that lost the cursor must not write records again.
    rmSync(path.join(dir, 'cursors'), { recursive: true, force: true });
    const second = await brokerWith(new FileSink(options), dir);
    for (let index = 6; index < 9; index++) await second.record(eventBody(`Op${index}`));
    await until(() => second.stats().sinks[0]!.lag === 0, 'the file sink again');
    await second.close(1000);

    const files = readdirSync(options.dir).sort();
    assert.ok(files.length > 2, `rotated by size (${files.join(', ')})`);
    assert.match(files[0]!, /^audit-0{15}1\.jsonl$/);
    const all = files.flatMap((name) => {
      assert.equal(statSync(path.join(options.dir, name)).mode & 0o777, 0o600);
      return readFileSync(path.join(options.dir, name), 'utf8').split('\n').filter(Boolean);
    });
    const seen = all.map((line) => (JSON.parse(line) as { sequence: number }).sequence);
    assert.deepEqual(
      seen,
      Array.from({ length: seen.length }, (_, index) => index + 1),
      'each record once, in order',
    );
    assert.equal(seen.length, 9);
  });
});
