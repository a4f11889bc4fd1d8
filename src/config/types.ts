import type { AuditConfig } from './audit.js';
import type { EventsConfig } from './events.js';
import type { Pkcs11SealSettings, Pkcs11Settings } from './pkcs11.js';
import type { AlertsConfig, MetricsConfig } from './metrics.js';

/** The server's whole configuration, after defaults, file and environment are merged. */
export interface CofferConfig {
  dev: boolean;
  dataDir: string;
  host: string;
  port: number;
  /** Vault hosts are `{vault}.{baseDomain}`. */
  baseDomain: string;
  /** The host name of the bare URL (identity endpoints, admin API, default vault). */
  publicHost: string;
  /** Answered on the bare host; undefined: the bare host serves no vault. */
  defaultVault: string | undefined;
  tls: { certFile: string | undefined; keyFile: string | undefined };
  /** cacheMiB bounds the committed-row (ciphertext) read cache; 0 turns it off. */
  storage: SqliteStorageConfig | PostgresStorageConfig;
  /**
   * The copy of the store's commit counter kept outside the database, to find a store rolled back
   * to an older copy. In the data dir by default; elsewhere it also finds a whole data dir put back.
   * SQLite alone: PostgreSQL is its own authority (docs/fault-tolerance.md).
   */
  commitRecordFile: string;
  /** Seconds between runs of the job that purges deleted objects whose retention ended. */
  purgeIntervalSeconds: number;
  /**
   * Server processes (node:cluster workers) sharing the listener and opening the store as members;
   * 1: one process holding the store's exclusive lock, no supervisor.
   */
  workers: number;
  /** Worker threads for RSA private-key operations (sign, decrypt, unwrap). */
  cryptoWorkers: number;
  /** Proxies whose X-Forwarded-For header is believed (network rules); none by default. */
  trustedProxies: string[];
  /** Deadlines and limits on client connections (CONTRACT section 2), in milliseconds. */
  connections: ConnectionLimits;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  /** The PKCS#11 token that holds -HSM keys (premium vaults); undefined: no HSM. */
  pkcs11: Pkcs11Settings | undefined;
  /**
   * How the root key is sealed in production: Shamir shares, or (auto-unseal) a key in another
   * key vault or in a PKCS#11 token, with recovery shares for the token.
   */
  seal: SealSettings;
  /** Reported in `x-ms-keyvault-region`, where Key Vault names its Azure region; Resource Manager's one location. */
  region: string;
  /** Resource Manager's subscription id (a UUID); undefined: derived from the tenant id. */
  subscriptionId: string | undefined;
  /** The resource group of vaults made outside Resource Manager. */
  defaultResourceGroup: string;
  /**
   * Where vault backups in Managed HSM's shape are written and read (`file:` URLs must point
   * inside it); undefined turns those endpoints off. Dev mode: `{dataDir}/backups`.
   */
  backupDir: string | undefined;
  audit: AuditConfig;
  events: EventsConfig;
  metrics: MetricsConfig;
  alerts: AlertsConfig;
}

export interface ConnectionLimits {
  /** From the first byte of a request (or the end of the TLS handshake) to the end of its headers. */
  headersTimeoutMs: number;
  /** From the first byte of a request to the last byte of its body. */
  requestTimeoutMs: number;
  /** How long a keep-alive connection may sit idle between requests. */
  keepAliveTimeoutMs: number;
  /** Open connections beyond this are closed as they arrive. */
  maxConnections: number;
  /** After SIGTERM, how long requests in flight may take before their connections are closed. */
  shutdownTimeoutMs: number;
}

export interface SqliteStorageConfig {
  type: 'sqlite';
  file: string;
  cacheMiB: number;
}

/** `storage.postgres` in the config file; COFFER_STORAGE_URL selects it too. */
export interface PostgresStorageConfig {
  type: 'postgres';
  url: string;
  readReplicaUrl: string | undefined;
  maxConnections: number;
  statementTimeoutMs: number;
  cacheMiB: number;
}

export type SealSettings = { type: 'shamir' } | KeyVaultSealSettings | Pkcs11SealSettings;

/** `seal: {type: "keyvault", ...}`: auto-unseal with a key in Azure Key Vault or another Coffer. */
export interface KeyVaultSealSettings {
  type: 'keyvault';
  vaultUrl: string;
  keyName: string;
  /** Empty: the key's current version when wrapping; unwrapping uses the version that wrapped. */
  keyVersion: string | undefined;
  algorithm: 'RSA-OAEP-256' | 'RSA-OAEP' | 'A256KW';
  credentials: {
    tenantId: string;
    clientId: string;
    clientSecret: string;
    /** Default https://login.microsoftonline.com; another Coffer's URL for a Coffer vault. */
    authorityHost: string | undefined;
    /** A PEM CA to trust for the vault and the authority (a Coffer with a private CA). */
    caFile: string | undefined;
  };
}
