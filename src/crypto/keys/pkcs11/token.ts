import { MAYBE_GONE, TOKEN_GONE, hsmUnavailable } from './errors.js';
import {
  type Handle,
  type Pkcs11Api,
  Pkcs11ConfigError,
  Pkcs11Library,
  ck,
  ckrName,
  ckrOf,
} from './library.js';
import { SessionPool } from './session-pool.js';

/** Where the token is and how to log in to it. */
export interface TokenOptions {
  /** Path of the vendor's PKCS#11 library (.so). */
  library: string;
  /** The slot id; or find the token by `tokenLabel` (preferred: slot ids may change). */
  slot?: number;
  tokenLabel?: string;
  /** The user PIN (CKU_USER). Kept in memory to log in again after the token comes back. */
  pin: string;
  /** Sessions kept open, so as many operations can run in the token at once. */
  sessions: number;
  /** Seconds between attempts to reach a token that went away. */
  retrySeconds?: number;
}

/** Something to say about the token in logs, never a secret. */
export type TokenEvent = { event: 'hsm-unavailable' | 'hsm-restored' | 'hsm-login-refused'; detail: string };

/**
 * A logged-in connection to one PKCS#11 token: a pool of sessions, and the token's state. When a
 * call shows the token gone (removed, powered off, unreachable), every operation answers 503
 * (`hsmUnavailable`) and a timer tries, every few seconds, to initialise the module again, find
 * the token and log in; once that works the token serves again with no restart. A PIN the token
 * refuses is never retried automatically: tokens lock a PIN after a few wrong tries.
 */
export class Pkcs11Token {
  readonly #library: Pkcs11Library;
  readonly #options: TokenOptions;
  #slot: Handle = Buffer.alloc(0);
  #pool: SessionPool | undefined;
  #generation = -1;
  #down: string | undefined;
  #refused = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** `manufacturer model` of the token, e.g. "SoftHSM project SoftHSM v2". */
  platform = '';
  mechanisms: ReadonlySet<number> = new Set();
  onEvent: (event: TokenEvent) => void = () => {};

  private constructor(options: TokenOptions) {
    this.#options = options;
    this.#library = Pkcs11Library.open(options.library);
  }

  /** Loads the library, finds the token and logs in; every failure is a Pkcs11ConfigError that says what to fix. */
  static async open(options: TokenOptions): Promise<Pkcs11Token> {
    const token = new Pkcs11Token(options);
    await token.#connect();
    return token;
  }

  get available(): boolean {
    return this.#down === undefined;
  }

  /** The module's generation this connection's handles belong to: a change voids cached handles. */
  get generation(): number {
    return this.#generation;
  }

  async #connect(): Promise<void> {
    await this.#library.call((api) => {
      this.#slot = findSlot(api, this.#options);
      const info = api.C_GetTokenInfo(this.#slot);
      this.platform = `${info.manufacturerID.trim()} ${info.model.trim()}`.trim();
      this.mechanisms = new Set(api.C_GetMechanismList(this.#slot));
      const pool = new SessionPool(api, this.#slot, this.#options.sessions, (session) =>
        this.#login(api, session),
      );
      this.#pool?.close();
      this.#pool = pool;
      this.#generation = this.#library.generation;
    });
  }

  #login(api: Pkcs11Api, session: Handle): void {
    try {
      api.C_Login(session, ck.CKU_USER, this.#options.pin);
    } catch (error) {
      const code = ckrOf(error);
      if (code === ck.CKR_USER_ALREADY_LOGGED_IN) return;
      if (code === ck.CKR_PIN_INCORRECT || code === ck.CKR_PIN_LOCKED || code === ck.CKR_PIN_LEN_RANGE) {
        this.#refused = true;
        throw new Pkcs11ConfigError(
          `the token refused the user PIN (${ckrName(code)}). Check the PIN given through pkcs11.pinEnv or pkcs11.pinFile (default COFFER_PKCS11_PIN); Coffer does not retry a refused PIN, because tokens lock it after a few wrong tries.`,
        );
      }
      throw new Pkcs11ConfigError(`logging in to the token failed (${ckrName(code)}).`);
    }
  }

  /**
   * Runs `work` on a session of its own. A failure that shows the token gone becomes 503 and
   * starts the reconnect timer; any other PKCS#11 error is rethrown for the caller to read.
   */
  async withSession<T>(work: (api: Pkcs11Api, session: Handle) => Promise<T> | T): Promise<T> {
    if (this.#closed) throw hsmUnavailable();
    if (this.#down !== undefined) throw hsmUnavailable();
    if (this.#generation !== this.#library.generation) await this.#reconnectOrFail();
    const pool = this.#pool!;
    const lease = await pool.acquire();
    try {
      return await this.#library.call(async (api) => {
        const session = pool.ensureOpen(lease);
        try {
          return await work(api, session);
        } catch (error) {
          // An operation that failed half-way may leave the session busy: it is replaced.
          pool.discard(lease);
          throw error;
        }
      });
    } catch (error) {
      throw await this.#classify(error);
    } finally {
      pool.release(lease);
    }
  }

  async #classify(error: unknown): Promise<unknown> {
    const code = ckrOf(error);
    if (code === undefined) return error;
    if (TOKEN_GONE.has(code) || (MAYBE_GONE.has(code) && !(await this.#healthy()))) {
      this.#markDown(`an operation failed with ${ckrName(code)}`);
      return hsmUnavailable();
    }
    return error;
  }

  async #healthy(): Promise<boolean> {
    try {
      await this.#library.call((api) => api.C_GetTokenInfo(this.#slot));
      return true;
    } catch {
      return false;
    }
  }

  async #reconnectOrFail(): Promise<void> {
    try {
      await this.#connect();
    } catch {
      this.#markDown('the token could not be reached after the module was initialised again');
      throw hsmUnavailable();
    }
  }

  #markDown(detail: string): void {
    if (this.#down !== undefined || this.#closed) return;
    this.#down = detail;
    this.onEvent({ event: 'hsm-unavailable', detail });
    const seconds = this.#options.retrySeconds ?? 2;
    this.#retryTimer = setInterval(() => void this.#tryRestore(), seconds * 1000);
    this.#retryTimer.unref();
  }

  #restoring = false;

  async #tryRestore(): Promise<void> {
    if (this.#restoring || this.#closed || this.#refused) return;
    this.#restoring = true;
    try {
      // Most modules (SoftHSM among them) see a token that came back only after C_Initialize.
      if (this.#generation === this.#library.generation) await this.#library.reinitialize();
      await this.#connect();
      clearInterval(this.#retryTimer);
      this.#down = undefined;
      this.onEvent({ event: 'hsm-restored', detail: this.platform });
    } catch (error) {
      if (this.#refused) {
        clearInterval(this.#retryTimer);
        this.onEvent({ event: 'hsm-login-refused', detail: (error as Error).message });
      }
    } finally {
      this.#restoring = false;
    }
  }

  /** Closes this connection's sessions; the module stays loaded for other users of the library. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#retryTimer);
    this.#pool?.close();
    this.#pool = undefined;
  }
}

/** The slot of the token named by label (preferred) or slot id; a clear error when it is not there. */
export function findSlot(
  api: Pkcs11Api,
  where: Pick<TokenOptions, 'library' | 'slot' | 'tokenLabel'>,
): Handle {
  const { slot, tokenLabel } = where;
  const slots = api.C_GetSlotList(true);
  const found = slots.find((candidate) =>
    tokenLabel !== undefined
      ? api.C_GetTokenInfo(candidate).label.trim() === tokenLabel
      : candidate.readBigUInt64LE() === BigInt(slot ?? -1),
  );
  if (!found) {
    const wanted = tokenLabel !== undefined ? `labelled '${tokenLabel}'` : `in slot ${slot}`;
    const present = slots.map((candidate) => `'${api.C_GetTokenInfo(candidate).label.trim()}'`);
    throw new Pkcs11ConfigError(
      `no token ${wanted} is present in ${where.library} (tokens present: ${present.join(', ') || 'none'}). Check pkcs11.tokenLabel or pkcs11.slot; for SoftHSM2 create one with softhsm2-util --init-token.`,
    );
  }
  return found;
}
