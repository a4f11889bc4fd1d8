import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SecureStore } from '../barrier/secure-store.js';
import { createFailureThrottle } from '../core/throttle.js';
import type { Clock } from '../lib/clock.js';
import { createConsoleApi, type Inject } from './api.js';
import { registerConsole } from './console.js';
import { overviewPages } from './pages/overview.js';
import { accessPages } from './pages/access.js';
import { auditPages } from './pages/audit.js';
import { certificatePages } from './pages/certificates.js';
import { deletedPages } from './pages/deleted.js';
import { keyPages } from './pages/keys.js';
import { secretPages } from './pages/secrets.js';
import { createConsoleSessions } from './sessions.js';

/**
 * Sign-ins one address may start per minute (per process). Each start writes a record to the
 * store; the store's bound (10,000, the oldest evicted) would otherwise let one address flood out
 * everyone's sign-ins in progress.
 */
export const SIGN_IN_STARTS_PER_MINUTE = 120;

/** The web console, wired for app.ts: its sessions, its API client and every page. */
export function createWebConsole(deps: {
  /** Where sessions and sign-ins in progress live, shared by every process (`sys/sessions/`). */
  store: SecureStore;
  clock: Clock;
  inject: Inject;
  vaultUrl: (vault: string) => string;
  authorityHost: () => string;
  tenantId: () => string;
  scope: () => string;
  clientAddress: (request: FastifyRequest) => string;
}) {
  const sessions = createConsoleSessions(deps.store, deps.clock);
  // Every start counts, as a failure would: the throttle's window and its bound on keys apply.
  const signInStarts = createFailureThrottle({
    maxFailures: SIGN_IN_STARTS_PER_MINUTE,
    windowMs: 60_000,
    clock: deps.clock,
  });
  const api = createConsoleApi(deps);
  return {
    register(app: FastifyInstance): void {
      registerConsole(app, {
        api,
        sessions,
        pages: [
          ...overviewPages(),
          ...secretPages(),
          ...keyPages(),
          ...certificatePages(),
          ...accessPages(),
          ...deletedPages(),
          ...auditPages(),
        ],
        tenantId: deps.tenantId,
        authorityHost: deps.authorityHost,
        scope: deps.scope,
        clientAddress: deps.clientAddress,
        admitSignIn: async (address) => (await signInStarts.reserve(`address:${address}`)).settle(true),
      });
    },
    /** The leader's periodic sweep: ended sessions and abandoned sign-ins leave the store. */
    sweepSessions: () => sessions.sweep(),
  };
}
