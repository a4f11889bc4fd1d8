import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SIGN_IN_STARTS_PER_MINUTE } from '../src/ui/ui.js';
import { rawRequest } from './helpers/http.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// Starting a console sign-in is unauthenticated and writes a record to the store; the store holds
// at most 10,000 and evicts to make room. One address flooding starts must be turned away before
// it pushes out everyone else's sign-ins in progress.
describe('console sign-in starts from one address', () => {
  let server: DevServer;

  before(async () => {
    server = await startDevServer();
  });
  after(async () => {
    await server?.stop();
  });

  it('are refused with 429 and Retry-After past the per-minute limit, and each allowed one works', async () => {
    const start = () => rawRequest(`${server.facts.url}/ui/sign-in`);
    for (let i = 0; i < SIGN_IN_STARTS_PER_MINUTE; i++) {
      const allowed = await start();
      assert.equal(allowed.status, 303, `start ${i + 1}: ${allowed.text}`);
      assert.match(String(allowed.headers.location), /\/oauth2\/v2\.0\/authorize\?/);
    }
    const refused = await start();
    assert.equal(refused.status, 429, refused.text);
    const retryAfter = Number(refused.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(refused.headers['set-cookie'], undefined, 'no sign-in was started');
  });
});
