import dgram from 'node:dgram';
import net from 'node:net';
import type { SpooledEntry } from '../record.js';
import type { Sink } from '../types.js';
import { octetCounted, type SyslogIdentity, syslogMessage } from './syslog-format.js';

export interface SyslogSinkOptions extends SyslogIdentity {
  transport: 'tcp' | 'udp';
  host: string;
  port: number;
}

const CONNECT_TIMEOUT_MS = 5000;
/**
 * Records written to a TCP connection that breaks may still have sat in the kernel's buffers:
 * the ones sent in this window before the break are sent again on the next connection.
 */
const RESEND_WINDOW_MS = 5000;

/**
 * RFC 5424 messages to a syslog receiver: over TCP with RFC 6587 octet counting (records sent
 * shortly before a connection broke are sent again, so delivery is at-least-once; receivers
 * tell duplicates by `sequence`), or over UDP, one datagram per record (RFC 5426: fire and
 * forget, a receiver that is down loses what was sent meanwhile).
 */
export class SyslogSink implements Sink {
  readonly name: string;
  private socket: net.Socket | undefined;
  private udp: dgram.Socket | undefined;
  private sent: Array<{ at: number; entry: SpooledEntry }> = [];
  private resend: SpooledEntry[] = [];

  constructor(private readonly options: SyslogSinkOptions) {
    this.name = `syslog-${options.transport}-${options.host}-${options.port}`;
  }

  async deliver(entries: SpooledEntry[]): Promise<void> {
    if (this.options.transport === 'udp') return this.sendUdp(entries);
    const first = entries[0]!.record.sequence;
    const batch = [...this.resend.filter((entry) => entry.record.sequence < first), ...entries];
    const socket = await this.connection();
    const bytes = Buffer.concat(batch.map((entry) => octetCounted(syslogMessage(entry, this.options))));
    await new Promise<void>((resolve, reject) => {
      socket.write(bytes, (error) => (error ? reject(error) : resolve()));
    });
    this.resend = [];
    const now = Date.now();
    this.sent = this.sent.filter((item) => now - item.at < RESEND_WINDOW_MS);
    for (const entry of entries) this.sent.push({ at: now, entry });
  }

  async close(): Promise<void> {
    this.socket?.end();
    this.socket = undefined;
    this.udp?.close();
    this.udp = undefined;
  }

  private connection(): Promise<net.Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.options.host, port: this.options.port });
      socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error('connection timed out')));
      socket.once('connect', () => {
        socket.setTimeout(0);
        socket.setKeepAlive(true);
        this.socket = socket;
        resolve(socket);
      });
      socket.once('error', reject);
      // Errors after the connection is up surface through write callbacks and 'close'.
      socket.on('error', () => undefined);
      socket.on('close', () => this.broken(socket));
      // A receiver says nothing back; anything it sends is ignored.
      socket.on('data', () => undefined);
    });
  }

  private broken(socket: net.Socket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    const now = Date.now();
    this.resend = this.sent.filter((item) => now - item.at < RESEND_WINDOW_MS).map((item) => item.entry);
    this.sent = [];
  }

  private async sendUdp(entries: SpooledEntry[]): Promise<void> {
    if (!this.udp) {
      const udp = dgram.createSocket(net.isIPv6(this.options.host) ? 'udp6' : 'udp4');
      udp.on('error', () => undefined);
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.connect(this.options.port, this.options.host, () => resolve());
      });
      this.udp = udp;
    }
    const udp = this.udp;
    for (const entry of entries) {
      await new Promise<void>((resolve, reject) => {
        udp.send(Buffer.from(syslogMessage(entry, this.options), 'utf8'), (error) =>
          error ? reject(error) : resolve(),
        );
      });
    }
  }
}
