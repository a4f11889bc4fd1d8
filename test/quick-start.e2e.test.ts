import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// The README's quick start, as a user runs it: a dev server, then set and read a secret with the SDK.
describe('quick start', () => {
  let server: DevServer;
  before(async () => {
    server = await startDevServer();
  });
  after(async () => {
    assert.equal(await server.stop('SIGTERM'), 0, 'SIGTERM stops the server with exit code 0');
  });

  it('sets and reads a secret through @azure/keyvault-secrets', async () => {
    const client = server.secrets();
    const stored = await client.setSecret('quick-start', 'it works');
    const read = await client.getSecret('quick-start');
    assert.equal(read.value, 'it works');
    assert.equal(read.properties.version, stored.properties.version);
    assert.match(
      read.properties.id ?? '',
      /^https:\/\/dev\.vault\.localhost:\d+\/secrets\/quick-start\/[0-9a-f]{32}$/,
    );
  });
});
