import type { Command } from 'commander';
import { apiClientFor, outputFormat } from '../options.js';
import { asRecord, listItems, printDone, printResult } from '../output.js';
import { renderProperties, renderTable } from '../table.js';
import { leaf } from './leaf.js';

/** `coffer event subscription create|list|show|delete` and `coffer event dead-letter list` (docs/events.md). */
export function registerEventCommands(program: Command): void {
  const event = program.command('event').description('event subscriptions (webhooks) and undelivered events');
  const subscription = event.command('subscription').description("a vault's event subscriptions");
  const base = (vault: string) => `/coffer/vaults/${encodeURIComponent(vault)}/eventSubscriptions`;
  const one = (command: Command) => {
    const { vault, name } = command.opts<{ vault: string; name: string }>();
    return `${base(vault)}/${encodeURIComponent(name)}`;
  };

  leaf(
    subscription,
    'create',
    "subscribe a webhook to a vault's events; it must answer the validation handshake first",
    async ({ command }) => {
      const { endpoint, eventTypes, schema } = command.opts<{
        endpoint: string;
        eventTypes?: string[];
        schema?: string;
      }>();
      const answer = await apiClientFor(command).call('PUT', one(command), { endpoint, eventTypes, schema });
      printResult(outputFormat(command), answer, () => renderSubscription(answer));
    },
  )
    .requiredOption('--vault <name>', 'vault whose events to send')
    .requiredOption('--name <name>', 'subscription name (3-64 letters, digits, hyphens)')
    .requiredOption('--endpoint <url>', 'https:// URL of the webhook')
    .option('--event-types <type...>', 'only these types, such as Microsoft.KeyVault.SecretNewVersionCreated')
    .option('--schema <schema>', 'EventGridSchema (default) or CloudEventSchemaV1_0');

  leaf(subscription, 'list', "list a vault's event subscriptions", async ({ command }) => {
    const { vault } = command.opts<{ vault: string }>();
    const items = listItems(await apiClientFor(command).call('GET', base(vault)));
    printResult(outputFormat(command), items, () =>
      renderTable(
        ['Name', 'State', 'Schema', 'Endpoint', 'EventTypes'],
        items.map((item) => [
          item['name'],
          item['provisioningState'],
          item['schema'],
          item['endpoint'],
          typesOf(item),
        ]),
      ),
    );
  }).requiredOption('--vault <name>', 'vault name');

  leaf(subscription, 'show', 'show one event subscription', async ({ command }) => {
    const answer = await apiClientFor(command).call('GET', one(command));
    printResult(outputFormat(command), answer, () => renderSubscription(answer));
  })
    .requiredOption('--vault <name>', 'vault name')
    .requiredOption('--name <name>', 'subscription name');

  leaf(
    subscription,
    'delete',
    'delete an event subscription and its undelivered events',
    async ({ command }) => {
      await apiClientFor(command).call('DELETE', one(command));
      const { vault, name } = command.opts<{ vault: string; name: string }>();
      printDone(outputFormat(command), `Deleted event subscription '${name}' of vault '${vault}'.`);
    },
  )
    .requiredOption('--vault <name>', 'vault name')
    .requiredOption('--name <name>', 'subscription name');

  const deadLetter = event.command('dead-letter').description('events given up after every try');
  leaf(deadLetter, 'list', 'list events that could not be delivered', async ({ command }) => {
    const { vault } = command.opts<{ vault?: string }>();
    const query = vault ? `?vault=${encodeURIComponent(vault)}` : '';
    const items = listItems(await apiClientFor(command).call('GET', `/coffer/events/dead-letters${query}`));
    printResult(outputFormat(command), items, () =>
      renderTable(
        ['DeadLettered', 'Vault', 'Subscription', 'EventType', 'Subject', 'Tries', 'Reason'],
        items.map((item) => [
          item['deadLetteredAt'],
          item['vault'],
          item['subscription'],
          item['eventType'],
          item['subject'],
          item['attempts'],
          item['reason'],
        ]),
      ),
    );
  }).option('--vault <name>', 'only this vault (default: every vault you may read)');
}

const typesOf = (item: Record<string, unknown>) => {
  const types = item['eventTypes'] as string[] | undefined;
  return types && types.length > 0 ? types.join(', ') : '(all)';
};

function renderSubscription(value: unknown): string {
  const item = asRecord(value);
  return renderProperties([
    ['Name', item['name']],
    ['Vault', item['vault']],
    ['State', item['provisioningState']],
    ['Endpoint', item['endpoint']],
    ['Schema', item['schema']],
    ['Event types', typesOf(item)],
    ['Created', item['createdAt']],
    ['Validated', item['validatedAt']],
    ['Last error', item['lastError']],
    ['ID', item['id']],
  ]);
}
