import pkcs11js from 'pkcs11js';

/** The PKCS#11 functions and constants (CKA_*, CKM_*, CKR_*), as pkcs11js exposes them. */
export const ck = pkcs11js;
export type Pkcs11Api = pkcs11js.PKCS11;
export type Handle = Buffer;
export type Template = pkcs11js.Template;
export type Mechanism = pkcs11js.Mechanism;

/** A PKCS#11 library could not be loaded or initialised: a configuration error, said plainly. */
export class Pkcs11ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Pkcs11ConfigError';
  }
}

/** The CKR_* code of an error a PKCS#11 call threw, or undefined for any other error. */
export function ckrOf(error: unknown): number | undefined {
  if (!(error instanceof Error) || error.name !== 'Pkcs11Error') return undefined;
  const code = (error as Error & { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** CKR_FOO for a code, for logs and operator messages (never for data). */
export function ckrName(code: number | undefined): string {
  if (code === undefined) return 'an error outside PKCS#11';
  const table = ck as unknown as Record<string, unknown>;
  const name = Object.keys(table).find((key) => key.startsWith('CKR_') && table[key] === code);
  return name ?? `CKR 0x${code.toString(16)}`;
}

/**
 * One loaded PKCS#11 module per library path, shared by everything that uses it (the key
 * provider and the seal): a module is initialised once per process, and initialising it again
 * (the only way most modules notice a token that was removed and put back) must wait until no
 * call is in flight on any thread, and hold new calls back meanwhile.
 */
export class Pkcs11Library {
  static readonly #loaded = new Map<string, Pkcs11Library>();

  readonly api: Pkcs11Api;
  /** Bumped by every re-initialisation: handles and sessions of an older generation are void. */
  generation = 0;
  #inFlight = 0;
  #drained: (() => void)[] = [];
  #reinitializing: Promise<void> | undefined;

  private constructor(readonly path: string) {
    this.api = new pkcs11js.PKCS11();
    try {
      this.api.load(path);
    } catch (error) {
      // dlopen's message names the file and the reason (missing, wrong architecture, not a library).
      throw new Pkcs11ConfigError(
        `cannot load the PKCS#11 library ${path}: ${(error as Error).message.split('\n')[0]}. Check pkcs11.library (COFFER_PKCS11_LIBRARY): for SoftHSM2 on Debian it is /usr/lib/softhsm/libsofthsm2.so.`,
      );
    }
    this.#initialize();
  }

  /** The module at `path`, loaded and initialised on first use. */
  static open(path: string): Pkcs11Library {
    let library = Pkcs11Library.#loaded.get(path);
    if (!library) {
      library = new Pkcs11Library(path);
      Pkcs11Library.#loaded.set(path, library);
    }
    return library;
  }

  #initialize(): void {
    try {
      // The library may use OS threads and locks: pkcs11js runs asynchronous calls on libuv's pool.
      this.api.C_Initialize({ flags: ck.CKF_OS_LOCKING_OK });
    } catch (error) {
      if (ckrOf(error) !== ck.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        throw new Pkcs11ConfigError(
          `the PKCS#11 library ${this.path} failed to initialise (${ckrName(ckrOf(error))}). For SoftHSM2 check SOFTHSM2_CONF and its tokendir.`,
        );
      }
    }
  }

  /** Runs one or more PKCS#11 calls, counted so that a re-initialisation waits for them. */
  async call<T>(work: (api: Pkcs11Api) => Promise<T> | T): Promise<T> {
    while (this.#reinitializing) await this.#reinitializing;
    this.#inFlight++;
    try {
      return await work(this.api);
    } finally {
      this.#inFlight--;
      if (this.#inFlight === 0) for (const resume of this.#drained.splice(0)) resume();
    }
  }

  /** C_Finalize then C_Initialize, once nothing is in flight. Concurrent callers share one run. */
  reinitialize(): Promise<void> {
    this.#reinitializing ??= (async () => {
      if (this.#inFlight > 0) await new Promise<void>((resolve) => this.#drained.push(resolve));
      try {
        this.api.C_Finalize();
      } catch {
        // A module that lost its token may refuse to finalise cleanly; initialising again still helps.
      }
      this.generation++;
      this.#initialize();
    })().finally(() => {
      this.#reinitializing = undefined;
    });
    return this.#reinitializing;
  }
}
