/**
 * Typed errors with Azure's stable codes. One HTTP plugin maps them to Azure's error JSON;
 * anything else becomes a bare 500. Messages are shown to clients: they say what to fix and
 * never contain a secret value, key material or a token.
 */
export class CofferError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Azure's `innererror.code`, where Key Vault gives one (`SecretDisabled`, `ForbiddenByRbac`). */
    readonly innerCode?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadParameter extends CofferError {
  constructor(message: string, code = 'BadParameter') {
    super(400, code, message);
  }
}

export class Unauthorized extends CofferError {
  constructor(message: string, headers: Record<string, string> = {}) {
    super(401, 'Unauthorized', message, headers);
  }
}

export class Forbidden extends CofferError {
  constructor(message: string, innerCode?: string) {
    super(403, 'Forbidden', message, {}, innerCode);
  }
}

export class NotFound extends CofferError {
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}

/**
 * `promise`'s value, or undefined when it fails with NotFound (an object deleted meanwhile). Any
 * other failure, such as a record that fails its integrity check, still fails: absence is the
 * only thing a reader may quietly skip.
 */
export async function unlessNotFound<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof NotFound) return undefined;
    throw error;
  }
}

export class Conflict extends CofferError {
  constructor(message: string, code = 'Conflict') {
    super(409, code, message);
  }
}

export class Throttled extends CofferError {
  constructor(retryAfterSeconds: number) {
    super(429, 'Throttled', 'Too many requests. Retry after the time given in Retry-After.', {
      'retry-after': String(retryAfterSeconds),
    });
  }
}

export class NotSupported extends CofferError {
  constructor(message: string) {
    super(400, 'NotSupported', message);
  }
}

export class Sealed extends CofferError {
  constructor() {
    super(
      503,
      'ServiceUnavailable',
      'The vault is sealed. An operator must unseal it (coffer operator unseal) before it can serve requests.',
      { 'retry-after': '5' },
    );
  }
}

/** A part Coffer depends on (the HSM) cannot serve now; the client may retry after Retry-After. */
export class ServiceUnavailable extends CofferError {
  constructor(message: string, retryAfterSeconds = 5) {
    super(503, 'ServiceUnavailable', message, { 'retry-after': String(retryAfterSeconds) });
  }
}

/** The HSM has no room for another key: retrying does not help until an operator frees space. */
export class InsufficientStorage extends CofferError {
  constructor(message: string) {
    super(507, 'InsufficientStorage', message);
  }
}

/**
 * A write refused because the store's disk is full. Nothing of it was stored (the transaction
 * rolled back as a whole); the client may retry once an operator has freed space.
 */
export class StorageFull extends ServiceUnavailable {
  constructor() {
    super(
      'The server cannot store data right now: its storage is full. Nothing was written. Retry after the time given in Retry-After.',
      10,
    );
  }
}

/**
 * The primary database is unreachable and this node serves reads from the replica: reads,
 * lists, backups and cryptographic operations go on, every write is refused until the primary
 * (or a promoted replica) is back, as Azure Key Vault does during a failover.
 */
export class ReadOnlyMode extends ServiceUnavailable {
  constructor(retryAfterSeconds = 5) {
    super(
      'Coffer is in read-only mode: its primary database is unreachable, so writes are refused until it returns; reads and cryptographic operations continue. Retry the write after the time given in Retry-After.',
      retryAfterSeconds,
    );
  }
}

/** The store cannot be reached (or did not answer in time); `reason` is ours, never a driver's text. */
export class StorageUnavailable extends ServiceUnavailable {
  constructor(reason: string, retryAfterSeconds = 5) {
    super(`${reason} Retry after the time given in Retry-After.`, retryAfterSeconds);
  }
}

/** Something inside Coffer is wrong (corrupt data, a broken invariant); never the client's fault. */
export class InternalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InternalError';
  }
}

/** A stored record failed authentication: tampered, truncated or moved to another path. */
export class IntegrityError extends InternalError {
  constructor(path: string) {
    super(`stored record at ${path} failed its integrity check`);
    this.name = 'IntegrityError';
  }
}
