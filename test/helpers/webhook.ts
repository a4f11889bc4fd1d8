import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EventGridDeserializer, isSystemEvent } from '@azure/eventgrid';
import { ensureDevTls } from '../../src/tls/dev-tls.js';
import { scratchDir } from './server-process.js';

/** How one path of the webhook answers. */
export type HookMode = 'ok' | 'fail' | 'hang' | 'ignore-handshake';

export interface ReceivedRequest {
  path: string;
  method: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** How the hook answered it. */
  answered: HookMode;
  /** Requests a `hang` path held open when this one arrived. */
  hangingAtArrival: number;
}

/**
 * A local HTTPS webhook with a CA of its own (the server trusts it only through
 * `events.caFile`). Each path answers as its mode says; Event Grid's handshakes are answered
 * as an Azure user's code would, with `@azure/eventgrid`.
 */
export class Webhook {
  readonly requests: ReceivedRequest[] = [];
  readonly modes = new Map<string, HookMode>();
  /** Requests a `hang` path holds open right now. */
  hanging = 0;
  private held: ServerResponse[] = [];
  private waiters: Array<() => void> = [];
  private readonly deserializer = new EventGridDeserializer();

  private constructor(
    private readonly server: Server,
    readonly caFile: string,
    readonly port: number,
  ) {}

  static async start(): Promise<Webhook> {
    const tls = await ensureDevTls(scratchDir('webhook'), {
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    const server = createServer({ cert: tls.cert, key: tls.key });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const hook = new Webhook(server, tls.caFile, port);
    server.on('request', (request, response) => void hook.handle(request, response));
    return hook;
  }

  url(path: string, host = 'localhost'): string {
    return `https://${host}:${this.port}${path}`;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const path = request.url ?? '/';
    const mode = this.modes.get(path) ?? 'ok';
    const body = Buffer.concat(chunks).toString('utf8');
    this.requests.push({
      path,
      method: request.method ?? '',
      headers: request.headers,
      body,
      answered: mode,
      hangingAtArrival: this.hanging,
    });
    this.wake();
    if (mode === 'hang') {
      this.hanging++;
      this.held.push(response);
      response.on('close', () => this.hanging--);
      return;
    }
    if (mode === 'fail') return void response.writeHead(500).end('down');
    if (request.method === 'OPTIONS') {
      if (mode === 'ignore-handshake') return void response.writeHead(404).end();
      return void response
        .writeHead(200, { 'webhook-allowed-origin': String(request.headers['webhook-request-origin']) })
        .end();
    }
    if (request.headers['aeg-event-type'] === 'SubscriptionValidation') {
      if (mode === 'ignore-handshake') return void response.writeHead(200).end('{}');
      const [event] = await this.deserializer.deserializeEventGridEvents(body);
      if (event && isSystemEvent('Microsoft.EventGrid.SubscriptionValidationEvent', event)) {
        response.writeHead(200, { 'content-type': 'application/json' });
        return void response.end(JSON.stringify({ validationResponse: event.data.validationCode }));
      }
    }
    response.writeHead(200).end();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Waits until `check` holds over what arrived (tests end on the suite's own timeout otherwise). */
  async until<T>(check: () => T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = check();
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`the webhook never saw ${what}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200).unref();
      });
    }
  }

  /** Notifications (not handshakes) that reached `path`, answered 200. */
  delivered(path: string): ReceivedRequest[] {
    return this.requests.filter(
      (request) =>
        request.path === path &&
        request.method === 'POST' &&
        request.headers['aeg-event-type'] === 'Notification' &&
        request.answered === 'ok',
    );
  }

  async close(): Promise<void> {
    for (const response of this.held.splice(0)) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
