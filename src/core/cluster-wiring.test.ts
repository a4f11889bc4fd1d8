import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../lib/clock.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { shareVaultThrottle } from './cluster-wiring.js';
import { createVaultThrottle, VaultThrottled } from './vault-throttle.js';

// Two members of one installation (as two `--workers` processes are: SQLite members over one
// file, each with its own feed), each with a vault throttle wired as app.ts wires it.
describe('vault throttles shared over the cluster feed', () => {
  let dir: string;
  let members: SqliteStorage[];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-wiring-'));
    const file = path.join(dir, 'coffer.db');
    members = [0, 1].map(() => new SqliteStorage(file, { mode: 'member', pollMs: 20 }));
  });

  afterEach(async () => {
    for (const member of members) await member.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("one member's admissions count against the vault's allowance on the other", async () => {
    const clock = new ManualClock(0);
    const [a, b] = members.map((member) => createVaultThrottle(clock, shareVaultThrottle(member.cluster)));
    const vault = { id: 'v1', name: 'limited', throttle: 10 };
    const one = { creates: 0, units: 1 };
    for (let i = 0; i < 10; i++) a!.admit(vault, one);
    // B asks every 100 ms. Alone it would admit all 10 of its own allowance; sharing, it admits
    // only what it lets in before A's report arrives (the interval plus the feed's bound).
    let admittedByB = 0;
    for (;;) {
      try {
        b!.admit(vault, one);
        admittedByB++;
      } catch (error) {
        assert.ok(error instanceof VaultThrottled);
        break;
      }
      await sleep(100);
    }
    assert.ok(admittedByB < 10, `B admitted ${admittedByB} after A had used the whole allowance`);
  });
});
