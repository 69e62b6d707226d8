import { recogniseSite, type SitesConfig } from '../domain/deployment/sites.js';
import type { AccessStore } from '../ports/access-store.js';

/**
 * Which configured site an arriving instance comes from (domain/deployment/sites.ts): by its DICOM
 * association's calling AE title, or by the account of the HTTP request that sent it (user names are
 * looked up by surrogate id and cached for a minute), with the site an upload declares counted only when
 * it is a configured one. Every instance gets a site; unrecognised senders get the default.
 */
export function arrivalSites(sites: SitesConfig, access: Pick<AccessStore, 'listUsers'>, now: () => number) {
  let cache: { readonly at: number; readonly nameById: ReadonlyMap<string, string> } | undefined;
  return {
    dimse: (callingAeTitle: string): string => recogniseSite(sites, { kind: 'dimse', callingAeTitle }).site,
    async http(senderId: string | undefined, declaredSite?: string): Promise<string> {
      if (cache === undefined || now() - cache.at > 60_000) cache = { at: now(), nameById: new Map((await access.listUsers()).map((u) => [u.userId, u.name])) };
      const userName = senderId === undefined ? '' : (cache.nameById.get(senderId) ?? '');
      return recogniseSite(sites, { kind: 'http', userName, ...(declaredSite === undefined ? {} : { declaredSite }) }).site;
    },
  };
}
