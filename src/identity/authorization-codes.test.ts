import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Barrier } from '../barrier/barrier.js';
import { scratchBarrier } from '../barrier/scratch-barrier.js';
import { ManualClock } from '../lib/clock.js';
import { AUTHORIZATION_CODE_LIFETIME_MS, createAuthorizationCodes } from './authorization-codes.js';
import { OAuthError } from './oauth-error.js';

const verifier = randomBytes(32).toString('base64url');
const grant = {
  clientId: 'c0ffe000-c0de-4c0e-9000-000000000001',
  redirectUri: 'https://localhost:8443/ui/callback',
  codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
  objectId: '11111111-1111-4111-8111-111111111111',
  userPrincipalName: 'alice@coffer.test',
  displayName: 'Alice',
  credentialId: 'pw-1',
  scope: 'https://vault.localhost/.default',
};
const redeemWith = (code: string, changes: Record<string, string> = {}) => ({
  code,
  clientId: grant.clientId,
  redirectUri: grant.redirectUri,
  codeVerifier: verifier,
  ...changes,
});
const refusedAs = (description: RegExp) => (error: unknown) =>
  error instanceof OAuthError && error.error === 'invalid_grant' && description.test(error.description);

describe('authorization codes: single use, short-lived, bound to client, redirect and PKCE verifier', () => {
  let scratch: Awaited<ReturnType<typeof scratchBarrier>>;
  let barrier: Barrier;
  let views = 0;
  const codesAt = (clock: ManualClock) =>
    createAuthorizationCodes(barrier.view(`sys/codes-${views++}/`), clock);
  before(async () => {
    scratch = await scratchBarrier(new ManualClock());
    barrier = scratch.barrier;
  });
  after(() => scratch.close());

  it('redeems once with the verifier of its challenge, then never again', async () => {
    const codes = codesAt(new ManualClock());
    const code = await codes.issue(grant);
    assert.equal((await codes.redeem(redeemWith(code))).objectId, grant.objectId);
    await assert.rejects(codes.redeem(redeemWith(code)), refusedAs(/already redeemed/));
  });

  it('redeems once when redeemed many times at once', async () => {
    const codes = codesAt(new ManualClock());
    const code = await codes.issue(grant);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, () => codes.redeem(redeemWith(code))),
    );
    assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1);
  });

  it('expires after a minute', async () => {
    const clock = new ManualClock();
    const codes = codesAt(clock);
    const code = await codes.issue(grant);
    clock.advance(AUTHORIZATION_CODE_LIFETIME_MS);
    await assert.rejects(codes.redeem(redeemWith(code)), refusedAs(/expired/));
  });

  it('refuses another client, another redirect or a wrong verifier, and the code is spent by the attempt', async () => {
    const codes = codesAt(new ManualClock());
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ clientId: '22222222-2222-4222-8222-222222222222' }, /another client_id/],
      [{ redirectUri: 'https://localhost:8443/ui/callback/' }, /redirect_uri does not match/],
      [{ codeVerifier: randomBytes(32).toString('base64url') }, /code_verifier does not match/],
    ];
    for (const [change, message] of cases) {
      const code = await codes.issue(grant);
      await assert.rejects(codes.redeem(redeemWith(code, change)), refusedAs(message));
      await assert.rejects(
        codes.redeem(redeemWith(code)),
        refusedAs(/already redeemed/),
        'one guess per code',
      );
    }
  });

  it('refuses a verifier outside RFC 7636 (too short, bad characters) as invalid_request', async () => {
    const codes = codesAt(new ManualClock());
    const code = await codes.issue(grant);
    for (const codeVerifier of ['short', `${'a'.repeat(43)} `, 'a'.repeat(129)])
      await assert.rejects(
        codes.redeem(redeemWith(code, { codeVerifier })),
        (error: unknown) => error instanceof OAuthError && error.error === 'invalid_request',
      );
  });
});
