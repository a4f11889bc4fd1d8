import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { scratchDir } from '../../../../test/helpers/server-process.js';
import { createTestToken, type TestToken } from '../../../../test/helpers/softhsm.js';
import { CofferError } from '../../../errors/index.js';
import { digestOf } from '../provider-fixtures.js';
import { Pkcs11ConfigError } from './library.js';
import { Pkcs11KeyProvider } from './provider.js';
import { Pkcs11Token } from './token.js';

// What an operator sees when the token is misconfigured, full or taken away: a clear error at
// start-up, 507 for a full token, 503 while it is gone, and service again when it returns.

let token: TestToken;
let tokenDir: string;
/** The token directory is a tmpfs of a few hundred kilobytes (root only, as CI runs), so the token can fill up. */
let small = false;

function mountTinyFilesystem(dir: string): boolean {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

before(() => {
  tokenDir = scratchDir('hsm-tmpfs');
  small = mountTinyFilesystem(tokenDir);
  token = createTestToken({ label: 'faults-test', tokenDir });
  process.env.SOFTHSM2_CONF = token.conf;
});

after(() => {
  if (small) execFileSync('umount', ['-l', tokenDir], { stdio: 'ignore' });
});

const open = (options: Partial<Parameters<typeof Pkcs11Token.open>[0]> = {}) =>
  Pkcs11Token.open({
    library: token.library,
    tokenLabel: token.label,
    pin: token.pin,
    sessions: 2,
    retrySeconds: 0.2,
    ...options,
  });

describe('PKCS#11 configuration errors say what to fix', () => {
  it('a missing library, an unknown token and a wrong PIN', async () => {
    await assert.rejects(open({ library: '/nonexistent/libpkcs11.so' }), (error: unknown) => {
      assert.ok(error instanceof Pkcs11ConfigError);
      assert.match(
        error.message,
        /cannot load the PKCS#11 library \/nonexistent\/libpkcs11\.so: .*No such file/,
      );
      return true;
    });
    await assert.rejects(
      open({ tokenLabel: 'no-such-token' }),
      /no token labelled 'no-such-token' is present .*'faults-test'/,
    );
    await assert.rejects(open({ pin: 'wrong-pin' }), (error: unknown) => {
      assert.ok(error instanceof Pkcs11ConfigError);
      assert.match(error.message, /refused the user PIN \(CKR_PIN_INCORRECT\)/);
      assert.doesNotMatch(error.message, /wrong-pin/, 'the PIN is never in a message');
      return true;
    });
  });
});

describe('a token removed while serving', () => {
  let hsm: Pkcs11KeyProvider;
  after(() => hsm?.close());

  it('answers 503 while it is gone, and serves again once it is back, with no restart', async () => {
    hsm = new Pkcs11KeyProvider(await open());
    const events: string[] = [];
    hsm.token.onEvent = (event) => events.push(event.event);
    const key = await hsm.generate({ kty: 'EC', curve: 'P-256' }, 'faults/ec');
    const digest = digestOf('sha256');
    await hsm.sign(key, 'ES256', digest);

    const [tokenFolder] = readdirSync(token.tokenDir);
    const present = path.join(token.tokenDir, tokenFolder!);
    renameSync(present, `${present}.removed`);
    for (let i = 0; i < 3; i++) {
      await assert.rejects(hsm.sign(key, 'ES256', digest), (error: unknown) => {
        assert.ok(error instanceof CofferError, String(error));
        assert.equal(error.status, 503);
        assert.equal(error.headers['retry-after'], '5');
        assert.match(error.message, /HSM that holds this key is unavailable/);
        return true;
      });
    }
    assert.deepEqual(events, ['hsm-unavailable']);

    renameSync(`${present}.removed`, present);
    const deadline = Date.now() + 10_000;
    while (!hsm.token.available && Date.now() < deadline) await sleep(100);
    assert.ok(hsm.token.available, 'the token is back in service');
    assert.equal((await hsm.sign(key, 'ES256', digest)).length, 64);
    assert.deepEqual(events, ['hsm-unavailable', 'hsm-restored']);
  });
});

describe('a full token', () => {
  it('refuses a new key with 507, and still serves the keys it holds', async (t) => {
    if (!small) return t.skip('needs root to mount a small tmpfs for the token');
    const hsm = new Pkcs11KeyProvider(await open());
    try {
      const first = await hsm.generate({ kty: 'EC', curve: 'P-256' }, 'full/first');
      let refused: unknown;
      for (let i = 0; i < 200 && !refused; i++) {
        await hsm.generate({ kty: 'RSA', size: 2048 }, 'full/filler').catch((error: unknown) => {
          refused = error;
        });
      }
      assert.ok(refused instanceof CofferError, String(refused));
      assert.equal(refused.status, 507);
      assert.match(refused.message, /HSM has no room for another key/);
      assert.equal((await hsm.sign(first, 'ES256', digestOf('sha256'))).length, 64);
    } finally {
      await hsm.close();
    }
  });
});
