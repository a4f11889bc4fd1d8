import { BadParameter, NotFound } from '../errors/index.js';
import type { VaultRecord } from '../vaults/types.js';
import type { CertificateRecords } from './store.js';
import type { Contact } from './types.js';

const MAX_CONTACTS = 50;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** The vault's certificate contacts: who lifetime actions of type EmailContacts notify. */
export function createContactService(deps: { records: (vault: VaultRecord) => CertificateRecords }) {
  const notFound = () =>
    new NotFound(
      'ContactsNotFound',
      'This vault has no certificate contacts. Set them with a PUT to /certificates/contacts.',
    );

  return {
    async getContacts(vault: VaultRecord): Promise<Contact[]> {
      const contacts = await deps.records(vault).readContacts();
      if (!contacts) throw notFound();
      return contacts;
    },

    async setContacts(vault: VaultRecord, contacts: Contact[]): Promise<Contact[]> {
      if (contacts.length === 0 || contacts.length > MAX_CONTACTS) {
        throw new BadParameter(
          `contacts must hold 1 to ${MAX_CONTACTS} entries; to remove them all, DELETE /certificates/contacts.`,
        );
      }
      for (const contact of contacts) {
        if (!contact.email && !contact.name && !contact.phone) {
          throw new BadParameter('Each contact needs at least one of email, name and phone.');
        }
        if (contact.email !== undefined && !EMAIL.test(contact.email)) {
          throw new BadParameter(`'${contact.email.slice(0, 80)}' is not an email address.`);
        }
      }
      await deps.records(vault).transaction((tx) => tx.writeContacts(contacts));
      return contacts;
    },

    async deleteContacts(vault: VaultRecord): Promise<Contact[]> {
      return deps.records(vault).transaction(async (tx) => {
        const contacts = await tx.readContacts();
        if (!contacts) throw notFound();
        await tx.removeContacts();
        return contacts;
      });
    },
  };
}
