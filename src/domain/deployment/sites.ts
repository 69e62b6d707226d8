import { z } from 'zod';
import { PlatformError } from '../errors.js';

/**
 * The sites a Vigil installation serves, and how it recognises which one a study came from: by the
 * calling AE title of a DICOM association, or by the account an upload or STOW-RS request used.
 * Unrecognised senders fall to the configured default site. A site is where a model version is
 * deployed: (site, model version) is the deployment key that judging, cases and audit entries carry.
 */
const siteId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a site id: lower-case letters, digits and "-", at most 63');
// PS3.5 AE title: up to 16 characters of the default repertoire, no backslash or control characters.
const aeTitle = z
  .string()
  .min(1)
  .max(16)
  .regex(/^[\x20-\x5b\x5d-\x7e]+$/, 'an AE title: 1-16 printable characters, no backslash')
  .transform((t) => t.trim());

export const sitesConfigSchema = z
  .strictObject({
    defaultSite: siteId,
    sites: z
      .array(
        z.strictObject({
          id: siteId,
          name: z.string().min(1).max(200),
          callingAeTitles: z.array(aeTitle).default([]),
          /** User names (accounts) whose uploads and STOW-RS requests come from this site. */
          uploadSources: z.array(z.string().min(1).max(200)).default([]),
          /** The site's expected volume (images a day), for its monitors' false-alarm rate; absent: VIGIL_MONITOR_CASES_PER_DAY. */
          casesPerDay: z.number().positive().max(1_000_000).optional(),
        }),
      )
      .min(1),
  })
  .superRefine((c, ctx) => {
    const seen = (values: readonly string[], what: string, path: string): void => {
      const counts = new Map<string, number>();
      for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
      for (const [v, n] of counts) if (n > 1) ctx.addIssue({ code: 'custom', path: [path], message: `${what} "${v}" is given ${n} times` });
    };
    seen(
      c.sites.map((s) => s.id),
      'site id',
      'sites',
    );
    seen(
      c.sites.flatMap((s) => s.callingAeTitles),
      'calling AE title',
      'sites',
    );
    seen(
      c.sites.flatMap((s) => s.uploadSources),
      'upload source',
      'sites',
    );
    if (!c.sites.some((s) => s.id === c.defaultSite)) ctx.addIssue({ code: 'custom', path: ['defaultSite'], message: `no site has the id "${c.defaultSite}"` });
  });
export type SitesConfig = z.infer<typeof sitesConfigSchema>;

/** One site, the default, for an installation that configures none. */
export const SINGLE_SITE: SitesConfig = { defaultSite: 'default', sites: [{ id: 'default', name: 'Default site', callingAeTitles: [], uploadSources: [] }] };

/** Reads a sites configuration; CONFIG_INVALID names the first problem. */
export function parseSitesConfig(json: unknown): SitesConfig {
  const parsed = sitesConfigSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new PlatformError('CONFIG_INVALID', `VIGIL_SITES_FILE: ${issue === undefined ? 'invalid' : `${issue.path.join('.') || '(root)'}: ${issue.message}`}`, {
    variable: 'VIGIL_SITES_FILE',
  });
}

export type ArrivalSource =
  { readonly kind: 'dimse'; readonly callingAeTitle: string } | { readonly kind: 'http'; readonly userName: string; readonly declaredSite?: string };

export interface RecognisedSite {
  readonly site: string;
  readonly recognisedBy: 'calling_ae_title' | 'upload_source' | 'declared' | 'default';
}

/**
 * Which site a study came from. A DICOM association is recognised by its calling AE title; an HTTP
 * sender by its account. A site an HTTP sender declares counts only when it names a configured site and
 * the account is not bound to another one (an account bound to a site cannot send as another). Anything
 * else falls to the default site, and says so.
 */
export function recogniseSite(config: SitesConfig, from: ArrivalSource): RecognisedSite {
  if (from.kind === 'dimse') {
    const title = from.callingAeTitle.trim();
    const site = config.sites.find((s) => s.callingAeTitles.includes(title));
    return site === undefined ? { site: config.defaultSite, recognisedBy: 'default' } : { site: site.id, recognisedBy: 'calling_ae_title' };
  }
  const bound = config.sites.find((s) => s.uploadSources.includes(from.userName));
  if (bound !== undefined) return { site: bound.id, recognisedBy: 'upload_source' };
  if (from.declaredSite !== undefined && config.sites.some((s) => s.id === from.declaredSite)) return { site: from.declaredSite, recognisedBy: 'declared' };
  return { site: config.defaultSite, recognisedBy: 'default' };
}

/** The deployment key: a model version at a site. */
export function deploymentKey(site: string, versionId: string): string {
  return `${site}/${versionId}`;
}
