import tls from 'node:tls';

/**
 * One TLS connection driven byte by byte, for what no HTTP client does on purpose: headers that
 * never end, a body that trickles, a connection that says nothing. It records what the server
 * sent and when the server ended the connection.
 */
export class RawConnection {
  received = '';
  /** Milliseconds from the first byte written (or from connecting) to the server ending it. */
  closedAfterMs: number | undefined;
  error: NodeJS.ErrnoException | undefined;
  readonly closed: Promise<void>;
  private startedAt = Date.now();
  private written = false;

  private constructor(readonly socket: tls.TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.toString('latin1');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.error = error;
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.closedAfterMs = Date.now() - this.startedAt;
        resolve();
      }),
    );
  }

  /** Connects and finishes the TLS handshake (trusting the test CA through NODE_EXTRA_CA_CERTS). */
  static open(port: number, servername = 'localhost'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername }, () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Writes now; the clock of `closedAfterMs` starts at the first write. */
  write(text: string): void {
    if (!this.written) this.startedAt = Date.now();
    this.written = true;
    this.socket.write(text);
  }

  /** Writes `text` one chunk every `intervalMs`, until it is all sent or the connection ends. */
  async trickle(text: string, chunkSize: number, intervalMs: number): Promise<void> {
    for (let offset = 0; offset < text.length; offset += chunkSize) {
      if (this.closedAfterMs !== undefined || this.socket.destroyed) return;
      this.write(text.slice(offset, offset + chunkSize));
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  /** Resolves true once the server ended the connection, false if it is still open after `ms`. */
  async closesWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const result = await Promise.race([this.closed.then(() => true as const), timeout]);
    clearTimeout(timer);
    return result;
  }

  /** The first HTTP response the server sent: status and parsed JSON body. */
  response(): { status: number; headers: string; body: unknown } {
    const [head = '', body = ''] = this.received.split('\r\n\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = body;
    }
    return { status, headers: head.toLowerCase(), body: parsed };
  }

  destroy(): void {
    this.socket.destroy();
  }
}
