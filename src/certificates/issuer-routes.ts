import type { FastifyRequest } from 'fastify';
import type { DataRoute } from '../http/data-plane.js';
import { nextLink, parsePageRequest } from '../http/wire/paging.js';
import { CertificateActions as A } from '../policy/actions.js';
import { route, vaultWide } from './route.js';
import type { CertificateService } from './service.js';
import {
  type IssuerBody,
  certificateSchemas as schemas,
  contactsBody,
  issuerBundle,
  issuerFromWire,
  issuerItem,
} from './wire.js';

const ISSUER_KEY = /^[0-9a-z-]{1,127}$/;
const issuerName = (request: FastifyRequest) => (request.params as { issuer: string }).issuer;

/** The vault's certificate contacts: one record, read and changed with `managecontacts`. */
export function contactRoutes(contacts: CertificateService['contacts']): DataRoute[] {
  const contactsSchema = { response: { 200: schemas.contacts } };
  return [
    route(
      'CertificateContactsGet',
      'GET',
      '/certificates/contacts',
      A.manageContacts,
      contactsSchema,
      async (request) => ({
        body: contactsBody(request.baseUrl, await contacts.getContacts(request.vault)),
      }),
      vaultWide,
    ),
    route(
      'CertificateContactsSet',
      'PUT',
      '/certificates/contacts',
      A.manageContacts,
      { body: schemas.contactsBody, ...contactsSchema },
      async (request) => {
        const { contacts: list } = request.body as {
          contacts: Parameters<typeof contacts.setContacts>[1];
        };
        return {
          body: contactsBody(request.baseUrl, await contacts.setContacts(request.vault, list)),
        };
      },
      vaultWide,
    ),
    route(
      'CertificateContactsDelete',
      'DELETE',
      '/certificates/contacts',
      A.manageContacts,
      contactsSchema,
      async (request) => ({
        body: contactsBody(request.baseUrl, await contacts.deleteContacts(request.vault)),
      }),
      vaultWide,
    ),
  ];
}

/** Certificate issuers, vault-wide; the Coffer CA is one of them. */
export function issuerRoutes(issuers: CertificateService['issuers']): DataRoute[] {
  const issuer = { response: { 200: schemas.issuer } };
  return [
    {
      ...route(
        'CertificateIssuersList',
        'GET',
        '/certificates/issuers',
        A.readIssuers,
        { response: { 200: schemas.issuerList } },
        async (request) => {
          const query = request.query as Record<string, unknown>;
          const { after, limit } = parsePageRequest(query, ISSUER_KEY);
          const result = await issuers.list(request.vault, after, limit);
          return {
            body: {
              value: result.items.map((item) => issuerItem(request.baseUrl, item)),
              nextLink: nextLink(request.baseUrl, '/certificates/issuers', query, limit, result.next),
            },
          };
        },
        vaultWide,
      ),
      listing: true,
    },
    {
      ...route(
        'CertificateIssuerGet',
        'GET',
        '/certificates/issuers/:issuer',
        A.readIssuers,
        issuer,
        async (request) => ({
          body: issuerBundle(request.baseUrl, await issuers.get(request.vault, issuerName(request))),
        }),
        vaultWide,
      ),
      listing: false,
    },
    route(
      'CertificateIssuerSet',
      'PUT',
      '/certificates/issuers/:issuer',
      A.writeIssuers,
      { body: schemas.issuerSetBody, ...issuer },
      async (request) => {
        const input = issuerFromWire(request.body as IssuerBody);
        const saved = await issuers.set(request.vault, issuerName(request), {
          ...input,
          provider: input.provider ?? '',
        });
        return { body: issuerBundle(request.baseUrl, saved) };
      },
      vaultWide,
    ),
    route(
      'CertificateIssuerUpdate',
      'PATCH',
      '/certificates/issuers/:issuer',
      A.writeIssuers,
      { body: schemas.issuerUpdateBody, ...issuer },
      async (request) => ({
        body: issuerBundle(
          request.baseUrl,
          await issuers.update(
            request.vault,
            issuerName(request),
            issuerFromWire(request.body as IssuerBody),
          ),
        ),
      }),
      vaultWide,
    ),
    route(
      'CertificateIssuerDelete',
      'DELETE',
      '/certificates/issuers/:issuer',
      A.deleteIssuers,
      issuer,
      async (request) => ({
        body: issuerBundle(request.baseUrl, await issuers.delete(request.vault, issuerName(request))),
      }),
      vaultWide,
    ),
  ];
}
