import { versionOf } from '../az-shape.js';
import { asRecord } from '../output.js';
import { renderProperties, renderTable } from '../table.js';

/** Tables for people: names, state and dates; never a secret's value or key material. */

export function renderObjectList(items: Record<string, unknown>[], withVersion = false): string {
  const headers = withVersion
    ? ['Name', 'Version', 'Enabled', 'Expires', 'Updated']
    : ['Name', 'Enabled', 'ContentType', 'Expires', 'Updated', 'Managed'];
  return renderTable(
    headers,
    items.map((item) => {
      const attributes = asRecord(item['attributes']);
      const common = [attributes['enabled'], attributes['expires'], attributes['updated']];
      return withVersion
        ? [item['name'], versionOf(item['id'] ?? item['kid']), ...common]
        : [
            item['name'],
            attributes['enabled'],
            item['contentType'],
            attributes['expires'],
            attributes['updated'],
            item['managed'],
          ];
    }),
  );
}

export function renderDeletedList(items: Record<string, unknown>[]): string {
  return renderTable(
    ['Name', 'DeletedDate', 'ScheduledPurgeDate', 'RecoveryId'],
    items.map((item) => [item['name'], item['deletedDate'], item['scheduledPurgeDate'], item['recoveryId']]),
  );
}

/** The lines every object's `show` table starts with. */
export function commonProperties(value: Record<string, unknown>): [string, unknown][] {
  const attributes = asRecord(value['attributes']);
  const tags = Object.entries(asRecord(value['tags'])).map(([key, tag]) => `${key}=${String(tag)}`);
  return [
    ['Name', value['name']],
    ['Version', versionOf(value['id'] ?? value['kid'] ?? asRecord(value['key'])['kid'])],
    ['Enabled', attributes['enabled']],
    ['Not before', attributes['notBefore']],
    ['Expires', attributes['expires']],
    ['Created', attributes['created']],
    ['Updated', attributes['updated']],
    ['Recovery level', attributes['recoveryLevel']],
    ['Tags', tags],
  ];
}

export function renderWithCommon(value: Record<string, unknown>, extra: [string, unknown][]): string {
  return renderProperties([...commonProperties(value), ...extra]);
}
