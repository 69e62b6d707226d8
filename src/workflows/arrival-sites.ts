import { recogniseSite, type SitesConfig } from '../domain/deployment/sites.js';
import type { UserDirectory } from './user-directory.js';

/**
 * Which configured site an arriving instance comes from (domain/deployment/sites.ts): by its DICOM
 * association's calling AE title, or by the account of the HTTP request that sent it (its name from the
 * cached user directory), with the site an upload declares counted only when
 * it is a configured one. Every instance gets a site; unrecognised senders get the default.
 */
export function arrivalSites(sites: SitesConfig, users: () => Promise<UserDirectory>) {
  return {
    dimse: (callingAeTitle: string): string => recogniseSite(sites, { kind: 'dimse', callingAeTitle }).site,
    async http(senderId: string | undefined, declaredSite?: string): Promise<string> {
      const userName = senderId === undefined ? '' : ((await users()).nameById.get(senderId) ?? '');
      return recogniseSite(sites, { kind: 'http', userName, ...(declaredSite === undefined ? {} : { declaredSite }) }).site;
    },
  };
}
