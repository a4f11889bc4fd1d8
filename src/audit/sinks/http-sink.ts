import http from 'node:http';
import https from 'node:https';
import type { SpooledEntry } from '../record.js';
import type { Sink } from '../types.js';

export interface HttpSinkOptions {
  url: string;
  /** Extra request headers (an Authorization header for the collector, say). */
  headers: Record<string, string>;
  /** Records per POST. */
  batchSize: number;
  /** PEM of a CA to trust besides the system's, for an https collector with a private CA. */
  caPem?: string;
  timeoutMs: number;
}

/**
 * Batched POSTs of records to a collector: each body a JSON array of records in order. A 2xx
 * answer delivers the batch; anything else (or no answer within the timeout) leaves it in the
 * spool, to be sent again with back-off, so a collector sees every record at least once and
 * tells repeats by `sequence`.
 */
export class HttpSink implements Sink {
  readonly name: string;
  private readonly agent: http.Agent;

  constructor(private readonly options: HttpSinkOptions) {
    const url = new URL(options.url);
    this.name = `http-${url.host}${url.pathname}`;
    this.agent =
      url.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, ca: options.caPem, minVersion: 'TLSv1.2' })
        : new http.Agent({ keepAlive: true });
  }

  async deliver(entries: SpooledEntry[]): Promise<void> {
    for (let start = 0; start < entries.length; start += this.options.batchSize) {
      const batch = entries.slice(start, start + this.options.batchSize);
      await this.post(`[${batch.map((entry) => entry.line).join(',')}]`);
    }
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  private post(body: string): Promise<void> {
    const url = new URL(this.options.url);
    const send = url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const request = send(
        url,
        {
          method: 'POST',
          agent: this.agent,
          timeout: this.options.timeoutMs,
          headers: {
            ...this.options.headers,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          response.resume();
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve();
            else reject(new Error(`the collector answered ${status}`));
          });
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error('the collector did not answer in time')));
      request.on('error', reject);
      request.end(body);
    });
  }
}
