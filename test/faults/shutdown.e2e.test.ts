import assert from 'node:assert/strict';
import https from 'node:https';
import { before, describe, it } from 'node:test';
import { adminToken } from '../helpers/http.js';
import { RawConnection } from '../helpers/raw-connection.js';
import { type DevServer, startDevServer } from '../helpers/server-process.js';

/** Waits for the server to exit; a server still running after `ms` is killed and reported. */
async function exitWithin(
  server: DevServer,
  ms: number,
): Promise<{ code: number | null; elapsedMs: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  const code = await Promise.race([server.stop('SIGTERM'), timeout]);
  clearTimeout(timer);
  if (code === 'timeout') {
    server.process.child.kill('SIGKILL');
    await server.stop();
    assert.fail(`the server was still running ${ms} ms after SIGTERM`);
  }
  return { code, elapsedMs: Date.now() - started };
}

/** A GET or POST through `agent`, resolving to what happened: a status or an error code. */
function request(
  agent: https.Agent,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status?: number; connection?: string; body?: string; error?: string }> {
  return new Promise((resolve) => {
    const outgoing = https.request(
      url,
      { agent, method: options.method ?? 'GET', headers: options.headers },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode, connection: response.headers.connection, body }),
        );
        response.on('error', (error: NodeJS.ErrnoException) =>
          resolve({ error: error.code ?? error.message }),
        );
      },
    );
    outgoing.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    outgoing.end(options.body);
  });
}

describe('shutdown', () => {
  describe('a server with long request deadlines and at most 4 connections', () => {
    let server: DevServer;

    before(async () => {
      server = await startDevServer({
        env: {
          // Long request deadlines: only the shutdown deadline can end slow connections in time.
          COFFER_REQUEST_HEADERS_TIMEOUT_SECONDS: '60',
          COFFER_REQUEST_TIMEOUT_SECONDS: '120',
          COFFER_SHUTDOWN_TIMEOUT_SECONDS: '2',
          COFFER_MAX_CONNECTIONS: '4',
        },
      });
    });

    it('refuses connections beyond the limit, and takes one again once a place is free', async () => {
      const held = await Promise.all(Array.from({ length: 4 }, () => RawConnection.open(server.port)));
      try {
        await assert.rejects(RawConnection.open(server.port), 'the fifth connection is refused');
        held.pop()!.destroy();
        let reopened: RawConnection | undefined;
        for (let attempt = 0; !reopened && attempt < 40; attempt++) {
          reopened = await RawConnection.open(server.port).catch(async () => {
            await new Promise((resolve) => setTimeout(resolve, 50));
            return undefined;
          });
        }
        assert.ok(reopened, 'a freed place is taken again');
        held.push(reopened);
      } finally {
        held.forEach((connection) => connection.destroy());
        // Let the server see them go before the next test counts on free places.
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    });

    it('SIGTERM with slow and idle clients exits 0 within the shutdown deadline', async () => {
      const token = await adminToken(server.facts);
      const slowHeaders = await RawConnection.open(server.port);
      slowHeaders.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
      const slowBody = await RawConnection.open(server.port);
      const body = JSON.stringify({ value: 'v'.repeat(500) });
      void slowBody.trickle(
        [
          'PUT /secrets/slow?api-version=7.6 HTTP/1.1',
          `Host: dev.vault.localhost:${server.port}`,
          `Authorization: Bearer ${token}`,
          'Content-Type: application/json',
          `Content-Length: ${body.length}`,
          '',
          body,
        ].join('\r\n'),
        1,
        100,
      );
      const silent = await RawConnection.open(server.port);
      await new Promise((resolve) => setTimeout(resolve, 300));
      try {
        const { code, elapsedMs } = await exitWithin(server, 10_000);
        assert.equal(code, 0, server.process.output.slice(-2000));
        assert.ok(elapsedMs < 6000, `exited ${elapsedMs} ms after SIGTERM; the deadline is 2 s`);
        assert.match(server.process.output, /shutdown deadline reached/);
        for (const connection of [slowHeaders, slowBody, silent]) {
          assert.ok(await connection.closesWithin(1000), 'every connection was ended');
        }
      } finally {
        for (const connection of [slowHeaders, slowBody, silent]) connection.destroy();
      }
    });
  });

  it('keep-alive clients making requests across a SIGTERM never see a reset connection', async () => {
    const server = await startDevServer();
    const tokenUrl = `${server.facts.authorityHost}/${server.facts.tenantId}/oauth2/v2.0/token`;
    const tokenBody = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: server.facts.clientId,
      client_secret: server.facts.clientSecret,
      scope: 'https://vault.localhost/.default',
    }).toString();
    const outcomes: Awaited<ReturnType<typeof request>>[] = [];
    let terminated = false;
    const loop = async (agent: https.Agent, kind: 'health' | 'token') => {
      for (;;) {
        const outcome =
          kind === 'health'
            ? await request(agent, `${server.facts.url}/healthz`)
            : await request(agent, tokenUrl, {
                method: 'POST',
                headers: { 'content-type': 'application/x-www-form-urlencoded' },
                body: tokenBody,
              });
        outcomes.push(outcome);
        if (outcome.error) return;
        if (outcomes.length >= 200 && !terminated) {
          terminated = true;
          server.process.child.kill('SIGTERM');
        }
      }
    };
    // Each loop has its own agent, so each keeps exactly one connection alive across the signal.
    const agents = Array.from({ length: 6 }, () => new https.Agent({ keepAlive: true, maxSockets: 1 }));
    await Promise.all(agents.map((each, index) => loop(each, index % 2 === 0 ? 'health' : 'token')));
    agents.forEach((each) => each.destroy());
    const { code } = await exitWithin(server, 15_000);
    assert.equal(code, 0);

    const errors = outcomes.filter((outcome) => outcome.error).map((outcome) => outcome.error);
    assert.deepEqual(
      errors.filter((error) => error !== 'ECONNREFUSED'),
      [],
      'a client sees either an answer or a refused new connection, never a reset one',
    );
    const answered = outcomes.filter((outcome) => outcome.status !== undefined);
    for (const outcome of answered) {
      if (outcome.status === 503) {
        assert.equal(outcome.connection, 'close');
        assert.equal(
          (JSON.parse(outcome.body!) as { error: { code: string } }).error.code,
          'ServiceUnavailable',
        );
      } else {
        assert.equal(outcome.status, 200, outcome.body);
      }
    }
    assert.ok(
      answered.some((outcome) => outcome.connection === 'close'),
      'responses sent while closing tell the client to close',
    );
  });
});
