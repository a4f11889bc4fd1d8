/** Azure Event Grid's Key Vault event types (learn.microsoft.com, "Azure Key Vault as Event Grid source"). */
export const AZURE_EVENT_TYPES = [
  'Microsoft.KeyVault.SecretNewVersionCreated',
  'Microsoft.KeyVault.SecretNearExpiry',
  'Microsoft.KeyVault.SecretExpired',
  'Microsoft.KeyVault.KeyNewVersionCreated',
  'Microsoft.KeyVault.KeyNearExpiry',
  'Microsoft.KeyVault.KeyExpired',
  'Microsoft.KeyVault.CertificateNewVersionCreated',
  'Microsoft.KeyVault.CertificateNearExpiry',
  'Microsoft.KeyVault.CertificateExpired',
  'Microsoft.KeyVault.VaultAccessPolicyChanged',
] as const;

/** Coffer's own, for what Azure tells through the activity log instead of Event Grid. */
export const COFFER_EVENT_TYPES = [
  'Coffer.KeyVault.SecretDeleted',
  'Coffer.KeyVault.SecretRecovered',
  'Coffer.KeyVault.SecretPurged',
  'Coffer.KeyVault.KeyDeleted',
  'Coffer.KeyVault.KeyRecovered',
  'Coffer.KeyVault.KeyPurged',
  'Coffer.KeyVault.CertificateDeleted',
  'Coffer.KeyVault.CertificateRecovered',
  'Coffer.KeyVault.CertificatePurged',
  'Coffer.KeyVault.VaultDeleted',
  'Coffer.KeyVault.VaultRecovered',
  'Coffer.KeyVault.RoleAssignmentCreated',
  'Coffer.KeyVault.RoleAssignmentDeleted',
] as const;

export type EventType = (typeof AZURE_EVENT_TYPES)[number] | (typeof COFFER_EVENT_TYPES)[number];

/** Event types raised by other modules through `publishEvent` (alerts: `Coffer.Alert.*`). */
export const EXTENSION_TYPE_PATTERN = /^Coffer\.[A-Za-z]+\.[A-Za-z]{1,80}$/;

export const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set([...AZURE_EVENT_TYPES, ...COFFER_EVENT_TYPES]);

export const EVENT_SCHEMAS = ['EventGridSchema', 'CloudEventSchemaV1_0'] as const;
export type EventSchema = (typeof EVENT_SCHEMAS)[number];

/** One event as raised, before it is put in either schema. Never holds a value or key material. */
export interface VaultEvent {
  id: string;
  type: string;
  /** Azure's subject: the object's name (the vault's name for vault events). */
  subject: string;
  /** ISO 8601, in the vault's time. */
  time: string;
  /** The vault's Resource Manager id, Event Grid's `topic` and CloudEvents' `source`. */
  topic: string;
  vault: string;
  data: Record<string, unknown>;
}

export type SubscriptionState = 'AwaitingValidation' | 'Active' | 'Failed';

export interface SubscriptionRecord {
  id: string;
  vault: string;
  name: string;
  endpoint: string;
  /** Empty: every type. */
  eventTypes: string[];
  schema: EventSchema;
  state: SubscriptionState;
  createdAt: string;
  validatedAt?: string;
  /** The handshake's code; kept in the barrier, never shown. */
  validationCode: string;
  validationAttempts: number;
  /** Epoch ms of the next handshake try while awaiting validation. */
  nextValidationAt?: number;
  lastError?: string;
}

/** One event on its way to one subscription: the outbox row. */
export interface DeliveryRecord {
  id: string;
  vault: string;
  subscription: string;
  subscriptionId: string;
  event: VaultEvent;
  attempts: number;
  /** Epoch ms (real time) of the next try. */
  nextAttemptAt: number;
  lastError?: string;
}

export interface DeadLetterRecord extends DeliveryRecord {
  deadLetteredAt: string;
  reason: string;
}
