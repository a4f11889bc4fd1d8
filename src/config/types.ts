import type { AuditConfig } from './audit.js';

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
  storage: { type: 'sqlite'; file: string; cacheMiB: number };
  /** Seconds between runs of the job that purges deleted objects whose retention ended. */
  purgeIntervalSeconds: number;
  /** Worker threads for RSA private-key operations (sign, decrypt, unwrap). */
  cryptoWorkers: number;
  /** Proxies whose X-Forwarded-For header is believed (network rules); none by default. */
  trustedProxies: string[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  audit: AuditConfig;
}
