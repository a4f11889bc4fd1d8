import type { FastifyRequest } from 'fastify';
import { BadParameter, NotFound } from '../errors/index.js';
import { type DataRoute, vaultScope } from '../http/data-plane.js';
import { VaultBackupActions } from '../policy/actions.js';

/** An account setting as Azure's administration.json describes it (`Setting`). */
interface Setting {
  name: string;
  value: string;
  type: 'boolean';
  /** Coffer's own: whether UpdateSetting may change it. */
  readOnly: boolean;
}

/**
 * The settings Coffer has, with the values it actually honours. Key management through ARM is
 * not offered (the management plane manages vaults, not keys), so that setting is false and
 * cannot be turned on.
 */
const SETTINGS: readonly Setting[] = [
  { name: 'AllowKeyManagementOperationsThroughARM', value: 'false', type: 'boolean', readOnly: true },
];

const wire = ({ name, value, type }: Setting) => ({ name, value, type });

function find(name: string): Setting {
  const setting = SETTINGS.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
  if (!setting) {
    throw new NotFound(
      'SettingNotFound',
      `There is no setting named '${name.slice(0, 100)}'. Coffer has: ${SETTINGS.map((each) => each.name).join(', ')}.`,
    );
  }
  return setting;
}

const settingName = (request: FastifyRequest) => (request.params as { name: string }).name;

/** Azure's Settings API (GetSettings, GetSetting, UpdateSetting) at each vault's URL. */
export function settingsRoutes(): DataRoute[] {
  return [
    {
      method: 'GET',
      url: '/settings',
      operation: 'SettingsList',
      action: VaultBackupActions.readSettings,
      scope: (request) => vaultScope(request),
      handler: async () => ({ body: { settings: SETTINGS.map(wire) } }),
    },
    {
      method: 'GET',
      url: '/settings/:name',
      operation: 'SettingGet',
      action: VaultBackupActions.readSettings,
      scope: (request) => vaultScope(request),
      handler: async (request) => ({ body: wire(find(settingName(request))) }),
    },
    {
      method: 'PATCH',
      url: '/settings/:name',
      operation: 'SettingUpdate',
      action: VaultBackupActions.writeSettings,
      scope: (request) => vaultScope(request),
      schema: {
        body: {
          type: 'object',
          required: ['value'],
          properties: { value: { type: 'string', maxLength: 100 } },
        },
      },
      handler: async (request) => {
        const setting = find(settingName(request));
        const value = (request.body as { value: string }).value;
        if (setting.readOnly && value.toLowerCase() !== setting.value) {
          throw new BadParameter(
            `The setting '${setting.name}' is read-only in Coffer: it is ${setting.value} because Coffer does not offer key management through its management plane.`,
          );
        }
        return { body: wire(setting) };
      },
    },
  ];
}
