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
  /** How this node unseals: operators' Shamir shares (default) or another key vault's key. */
  seal: SealSettings;
  /** Seconds between runs of the job that purges deleted objects whose retention ended. */
  purgeIntervalSeconds: number;
  /** Worker threads for RSA private-key operations (sign, decrypt, unwrap). */
  cryptoWorkers: number;
  /** Proxies whose X-Forwarded-For header is believed (network rules); none by default. */
  trustedProxies: string[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
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

export type SealSettings = { type: 'shamir' } | KeyVaultSealSettings;

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
