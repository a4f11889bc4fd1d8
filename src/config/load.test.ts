import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from './load.js';

describe('loadConfig: connection deadlines', () => {
  it("defaults to CONTRACT section 2's deadlines: 10 s headers, 30 s request, 5 minutes idle, 10 s shutdown", () => {
    assert.deepEqual(loadConfig({ dev: true }, {}).connections, {
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 300_000,
      maxConnections: 4096,
      shutdownTimeoutMs: 10_000,
    });
  });

  it('reads each from the environment', () => {
    const config = loadConfig(
      { dev: true },
      {
        COFFER_REQUEST_HEADERS_TIMEOUT_SECONDS: '2',
        COFFER_REQUEST_TIMEOUT_SECONDS: '3',
        COFFER_KEEP_ALIVE_TIMEOUT_SECONDS: '4',
        COFFER_MAX_CONNECTIONS: '5',
        COFFER_SHUTDOWN_TIMEOUT_SECONDS: '6',
      },
    );
    assert.deepEqual(config.connections, {
      headersTimeoutMs: 2000,
      requestTimeoutMs: 3000,
      keepAliveTimeoutMs: 4000,
      maxConnections: 5,
      shutdownTimeoutMs: 6000,
    });
  });

  it('refuses a header deadline longer than the whole-request deadline, and zero', () => {
    assert.throws(
      () =>
        loadConfig(
          { dev: true },
          { COFFER_REQUEST_HEADERS_TIMEOUT_SECONDS: '40', COFFER_REQUEST_TIMEOUT_SECONDS: '30' },
        ),
      /requestHeadersTimeoutSeconds cannot exceed requestTimeoutSeconds/,
    );
    // No deadline at all is what issue 11 found; it cannot be configured back.
    assert.throws(
      () => loadConfig({ dev: true }, { COFFER_KEEP_ALIVE_TIMEOUT_SECONDS: '0' }),
      /keepAliveTimeoutSeconds must be a whole number from 1/,
    );
  });
});

describe('loadConfig: workers', () => {
  it('runs one process in dev mode and on SQLite, one per CPU for PostgreSQL nodes, unless told', async () => {
    const { availableParallelism } = await import('node:os');
    const postgres = { COFFER_STORAGE_URL: 'postgresql://db1/coffer' };
    assert.equal(loadConfig({ dev: true }, {}).workers, 1);
    assert.equal(loadConfig({ dev: false }, {}).workers, 1);
    assert.equal(loadConfig({ dev: false }, postgres).workers, availableParallelism());
    assert.equal(loadConfig({ dev: true }, postgres).workers, 1);
    assert.equal(loadConfig({ dev: false }, { COFFER_WORKERS: '3' }).workers, 3);
    // The flag wins over the environment, as every flag does.
    assert.equal(loadConfig({ dev: true, workers: 2 }, { COFFER_WORKERS: '3' }).workers, 2);
  });

  it('refuses a count that is not a whole number from 1 to 256, naming the setting', () => {
    for (const bad of ['0', '-1', '1.5', 'many', '257'])
      assert.throws(
        () => loadConfig({ dev: false }, { COFFER_WORKERS: bad }),
        /workers must be a whole number from 1 to 256/,
      );
  });
});
