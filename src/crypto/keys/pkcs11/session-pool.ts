import { hsmUnavailable } from './errors.js';
import { type Handle, type Pkcs11Api, ck } from './library.js';

/** One session slot of the pool; its session is opened on first use and after a failure. */
export interface Lease {
  handle: Handle | undefined;
}

const SESSION_FLAGS = ck.CKF_SERIAL_SESSION | ck.CKF_RW_SESSION;
/** CKS_RW_USER_FUNCTIONS (PKCS#11 v2.40 §5.7.1): a read/write session of a logged-in user; pkcs11js lacks the constant. */
const CKS_RW_USER_FUNCTIONS = 3;
/** How long a request waits for a free session before it answers 503 rather than hang. */
const ACQUIRE_TIMEOUT_MS = 10_000;

/**
 * A fixed number of sessions on one token. A PKCS#11 session runs one operation at a time, so
 * each operation leases a session of its own; callers beyond the pool's size queue, each with
 * a deadline. The first session is opened (and used to log in) at once; the others on demand.
 */
export class SessionPool {
  readonly #free: Lease[] = [];
  readonly #waiters: { grant: (lease: Lease) => void; refuse: () => void }[] = [];
  #closed = false;

  constructor(
    private readonly api: Pkcs11Api,
    private readonly slot: Handle,
    size: number,
    private readonly login: (session: Handle) => void,
  ) {
    for (let i = 0; i < size; i++) this.#free.push({ handle: undefined });
    const first = this.#free[0]!;
    first.handle = api.C_OpenSession(slot, SESSION_FLAGS);
    try {
      login(first.handle);
    } catch (error) {
      this.discard(first);
      throw error;
    }
  }

  acquire(): Promise<Lease> {
    if (this.#closed) return Promise.reject(hsmUnavailable());
    const lease = this.#free.pop();
    if (lease) return Promise.resolve(lease);
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: (granted: Lease) => {
          clearTimeout(timer);
          resolve(granted);
        },
        refuse: () => {
          clearTimeout(timer);
          reject(hsmUnavailable());
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(hsmUnavailable());
      }, ACQUIRE_TIMEOUT_MS);
      this.#waiters.push(waiter);
    });
  }

  /** The lease's session, opened now if it has none; logged in if the token forgot the login. */
  ensureOpen(lease: Lease): Handle {
    if (lease.handle) return lease.handle;
    const session = this.api.C_OpenSession(this.slot, SESSION_FLAGS);
    lease.handle = session;
    if (this.api.C_GetSessionInfo(session).state !== CKS_RW_USER_FUNCTIONS) this.login(session);
    return session;
  }

  /** Closes a session an operation may have left busy; the lease opens a fresh one next time. */
  discard(lease: Lease): void {
    const session = lease.handle;
    lease.handle = undefined;
    if (!session) return;
    try {
      this.api.C_CloseSession(session);
    } catch {
      // Already gone with its token: nothing to close.
    }
  }

  release(lease: Lease): void {
    if (this.#closed) return this.discard(lease);
    const waiter = this.#waiters.shift();
    if (waiter) waiter.grant(lease);
    else this.#free.push(lease);
  }

  close(): void {
    this.#closed = true;
    for (const lease of this.#free) this.discard(lease);
    for (const waiter of this.#waiters.splice(0)) waiter.refuse();
  }
}
