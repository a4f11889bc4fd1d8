import type { Command } from 'commander';
import { createApiClient } from '../api-client.js';
import { type ConnectionFlags, resolveConnection } from '../connection.js';
import { CliError } from '../errors.js';
import { outputFormat } from '../options.js';
import { printDone, printResult } from '../output.js';
import { type Profile, profilePath, removeProfile, saveProfile } from '../profile.js';
import { renderProperties } from '../table.js';
import { leaf } from './leaf.js';

/**
 * `coffer login` checks the credentials it is given (flags, environment or --dev-data-dir) by
 * getting a token, then saves them as the profile later commands use without flags;
 * `coffer logout` deletes the profile. A user's password is never saved: their token is, until
 * it expires.
 */

export function registerLoginCommands(program: Command): void {
  leaf(
    program,
    'login',
    'check credentials and save them as the default connection (mode 0600)',
    async ({ command }) => {
      const flags = command.opts<ConnectionFlags>();
      // The credentials to save are the ones given now, never those of an older profile.
      const connection = resolveConnection(flags, process.env, process.cwd(), { ignoreProfile: true });
      if (
        connection.tenantId === undefined ||
        (connection.username === undefined &&
          (connection.clientId === undefined || connection.clientSecret === undefined))
      ) {
        throw new CliError(
          'nothing to log in with. Pass --url, --tenant-id, --client-id and --client-secret (or COFFER_*), --username UPN for a user, or --dev-data-dir DIR.',
        );
      }
      const token = await createApiClient(connection).signIn();
      const profile: Profile = {
        url: connection.url,
        authorityHost: connection.authorityHost,
        baseDomain: connection.baseDomain,
        tenantId: connection.tenantId,
      };
      if (connection.caFile !== undefined) profile.caFile = connection.caFile;
      if (connection.username !== undefined) {
        profile.username = connection.username;
        profile.token = token;
      } else {
        profile.clientId = connection.clientId;
        profile.clientSecret = connection.clientSecret;
      }
      const path = saveProfile(profile);
      const summary = {
        url: profile.url,
        tenantId: profile.tenantId,
        user: profile.username ?? profile.clientId,
        profile: path,
        expiresOn: profile.token?.expiresOn ?? null,
      };
      printResult(outputFormat(command), summary, () =>
        renderProperties([
          ['Logged in to', summary.url],
          ['As', summary.user],
          ['Tenant', summary.tenantId],
          ['Profile', `${path} (mode 0600)`],
          ['Sign-in expires', summary.expiresOn ?? 'never (client secret saved; `coffer logout` removes it)'],
        ]),
      );
    },
  );

  leaf(program, 'logout', 'delete the saved profile', async ({ command }) => {
    const path = profilePath();
    const removed = removeProfile();
    printDone(
      outputFormat(command),
      removed ? `Logged out: deleted ${path}.` : `Not logged in (no ${path ?? 'profile'}).`,
    );
  });
}
