import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { parseSitesConfig, recogniseSite, SINGLE_SITE } from './sites.js';

const config = parseSitesConfig({
  defaultSite: 'elsewhere',
  sites: [
    { id: 'north', name: 'North General', callingAeTitles: ['NORTH_CR1', 'NORTH_PACS'], uploadSources: ['north-gateway'] },
    { id: 'south', name: 'South Children’s', callingAeTitles: ['SOUTH_DX'] },
    { id: 'elsewhere', name: 'Unrecognised senders' },
  ],
});

describe('sites', () => {
  it('recognises a DICOM sender by its calling AE title and an HTTP sender by its account, else the default', () => {
    expect(recogniseSite(config, { kind: 'dimse', callingAeTitle: 'NORTH_PACS' })).toEqual({ site: 'north', recognisedBy: 'calling_ae_title' });
    expect(recogniseSite(config, { kind: 'dimse', callingAeTitle: 'SOUTH_DX  ' })).toEqual({ site: 'south', recognisedBy: 'calling_ae_title' });
    expect(recogniseSite(config, { kind: 'dimse', callingAeTitle: 'STORESCU' })).toEqual({ site: 'elsewhere', recognisedBy: 'default' });
    expect(recogniseSite(config, { kind: 'http', userName: 'north-gateway', declaredSite: 'south' })).toEqual({ site: 'north', recognisedBy: 'upload_source' });
    expect(recogniseSite(config, { kind: 'http', userName: 'lab-laptop', declaredSite: 'south' })).toEqual({ site: 'south', recognisedBy: 'declared' });
    expect(recogniseSite(config, { kind: 'http', userName: 'lab-laptop', declaredSite: 'mars' })).toEqual({ site: 'elsewhere', recognisedBy: 'default' });
    expect(recogniseSite(SINGLE_SITE, { kind: 'dimse', callingAeTitle: 'ANY' })).toEqual({ site: 'default', recognisedBy: 'default' });
  });

  test.prop([fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), fc.option(fc.string({ maxLength: 10 }), { nil: undefined })])(
    'always names a configured site, whatever arrives',
    (ae, user, declared) => {
      const ids = config.sites.map((s) => s.id);
      expect(ids).toContain(recogniseSite(config, { kind: 'dimse', callingAeTitle: ae }).site);
      expect(ids).toContain(recogniseSite(config, { kind: 'http', userName: user, ...(declared === undefined ? {} : { declaredSite: declared }) }).site);
    },
  );

  it('refuses a configuration that is ambiguous or names a default it lacks, saying where', () => {
    const site = (id: string, ae: string[] = []) => ({ id, name: id, callingAeTitles: ae });
    expect(() => parseSitesConfig({ defaultSite: 'a', sites: [site('a', ['X']), site('b', ['X'])] })).toThrow(/calling AE title "X" is given 2 times/);
    expect(() => parseSitesConfig({ defaultSite: 'z', sites: [site('a')] })).toThrow(/defaultSite: no site has the id "z"/);
    expect(() => parseSitesConfig({ defaultSite: 'a', sites: [site('a'), site('a')] })).toThrow(/site id "a" is given 2 times/);
    expect(() => parseSitesConfig({ defaultSite: 'A B', sites: [site('A B')] })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => parseSitesConfig({ defaultSite: 'a', sites: [site('a', ['A\\B'])] })).toThrow(/AE title/);
  });
});
