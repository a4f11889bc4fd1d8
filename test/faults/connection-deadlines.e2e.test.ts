import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { adminToken, rawRequest } from '../helpers/http.js';
import { RawConnection } from '../helpers/raw-connection.js';
import { type DevServer, startDevServer } from '../helpers/server-process.js';

/**
 * Slow and idle clients are cut at configurable deadlines (issue 11, finding 5). The deadlines are
 * set to a second or two here so the test is quick; Node's own defaults would hold these
 * connections for a minute or more. What the server writes itself on a client error is Azure's
 * error JSON.
 */
describe('connection deadlines', () => {
  let server: DevServer;

  before(async () => {
    server = await startDevServer({
      env: {
        COFFER_REQUEST_HEADERS_TIMEOUT_SECONDS: '1',
        COFFER_REQUEST_TIMEOUT_SECONDS: '2',
        COFFER_KEEP_ALIVE_TIMEOUT_SECONDS: '1',
      },
    });
  });

  after(async () => {
    assert.equal(await server.stop('SIGTERM'), 0);
  });

  /** Connections the server failed to end are ended here, so a failing test cannot hang the run. */
  const opened: RawConnection[] = [];
  const open = async () => {
    const connection = await RawConnection.open(server.port);
    opened.push(connection);
    return connection;
  };
  afterEach(() => opened.splice(0).forEach((connection) => connection.destroy()));

  const assertAzureError = (connection: RawConnection, status: number, code: string) => {
    const response = connection.response();
    assert.equal(response.status, status, connection.received.slice(0, 300));
    const body = response.body as { error?: { code?: string; message?: string } };
    assert.equal(body.error?.code, code, connection.received.slice(0, 300));
    assert.ok(body.error?.message && body.error.message.length > 10, 'a message that says what happened');
    assert.match(response.headers, /content-type: application\/json/);
  };

  it('headers that never end are answered 408 in Azure shape and cut at the header deadline', async () => {
    const connection = await open();
    connection.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    assert.ok(await connection.closesWithin(5000), 'the server ended the connection');
    assertAzureError(connection, 408, 'RequestTimeout');
  });

  it('a connection that sends nothing is closed at the header deadline', async () => {
    const connection = await open();
    assert.ok(await connection.closesWithin(5000), 'the server ended the connection');
  });

  it('a body that trickles past the whole-request deadline is cut, and nothing is written', async () => {
    const token = await adminToken(server.facts);
    const body = JSON.stringify({ value: 'x'.repeat(900) });
    const connection = await open();
    // One byte every 50 ms never leaves the connection idle, so only a whole-request deadline cuts it.
    const trickling = connection.trickle(
      [
        `PUT /secrets/trickled?api-version=7.6 HTTP/1.1`,
        `Host: dev.vault.localhost:${server.port}`,
        `Authorization: Bearer ${token}`,
        'Content-Type: application/json',
        `Content-Length: ${body.length}`,
        '',
        body,
      ].join('\r\n'),
      1,
      50,
    );
    assert.ok(await connection.closesWithin(6000), 'the server ended the connection');
    await trickling;
    assertAzureError(connection, 408, 'RequestTimeout');
    await assert.rejects(server.secrets().getSecret('trickled'), { statusCode: 404 });
  });

  it('an idle keep-alive connection is closed after the keep-alive deadline', async () => {
    const connection = await open();
    connection.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    for (let waited = 0; !connection.received.includes('"ok"') && waited < 5000; waited += 20)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(connection.response().status, 200);
    assert.ok(await connection.closesWithin(5000), 'the server ended the idle connection');
  });

  it('headers larger than the limit are answered 431 in Azure shape', async () => {
    const connection = await open();
    connection.write(`GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.ok(await connection.closesWithin(5000));
    assertAzureError(connection, 431, 'RequestHeaderFieldsTooLarge');
  });

  it('a request that is not HTTP is answered 400 in Azure shape', async () => {
    const connection = await open();
    connection.write('NOT HTTP AT ALL\r\n\r\n');
    assert.ok(await connection.closesWithin(5000));
    assertAzureError(connection, 400, 'BadRequest');
  });

  it('still serves ordinary requests', async () => {
    assert.equal((await rawRequest(`${server.facts.url}/readyz`)).status, 200);
  });
});
