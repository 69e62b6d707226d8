/**
 * The behaviour every `ReidentificationVault` must show, written once and run against each store
 * (STYLE.md, "Contract suites"). The fixture builds the vault with a real sealer, and can dump the
 * stored rows (to show no original is kept in the clear) and move a row to another instance's key (to
 * show a sealed row opens only where it was sealed).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InstanceIdentity } from '../domain/results/result-identity.js';
import { createManualClock, type ManualClock } from './job-queue.contract.js';
import type { ReidentificationVault } from './reidentification-vault.js';

export interface ReidentificationVaultFixture {
  readonly vault: ReidentificationVault;
  /** A second vault on the same store, as another server's. */
  readonly second: ReidentificationVault;
  /** Every stored vault row, as text (binary columns as hex or base64, as the store prints them). */
  readonly dumpRows: () => Promise<string>;
  /** Gives the row stored under one pseudonymous SOP Instance UID another one (tampering by the store's owner). */
  readonly moveRow: (fromSopUid: string, toSopUid: string) => Promise<void>;
  dispose(): void | Promise<void>;
}

const identity = (n: number, patientName = 'SYNTHETIC^PATIENT'): InstanceIdentity => ({
  reference: { studyInstanceUid: '1.2.3.4', seriesInstanceUid: '1.2.3.4.1', sopInstanceUid: `1.2.3.4.1.${n}`, sopClassUid: '1.2.840.10008.5.1.4.1.1.7' },
  study: { patientName, patientId: 'SYN-0001', patientBirthDate: '19700101', accessionNumber: 'ACC-SYN-1' },
});

export function describeReidentificationVault(
  name: string,
  factory: (clock: ManualClock) => ReidentificationVaultFixture | Promise<ReidentificationVaultFixture>,
): void {
  describe(`ReidentificationVault contract: ${name}`, () => {
    let fixture: ReidentificationVaultFixture | undefined;
    const open = async (): Promise<ReidentificationVaultFixture> => {
      fixture = await factory(createManualClock());
      return fixture;
    };
    afterEach(async () => {
      await fixture?.dispose();
      fixture = undefined;
    });

    it('keeps originals per instance and returns a study’s by pseudonymous SOP Instance UID, sealed at rest', async () => {
      const { vault, dumpRows } = await open();
      await vault.keep({ studyUid: '2.25.1', sopInstanceUid: '2.25.11' }, identity(1));
      await vault.keep({ studyUid: '2.25.1', sopInstanceUid: '2.25.12' }, identity(2));
      await vault.keep({ studyUid: '2.25.2', sopInstanceUid: '2.25.21' }, identity(3));
      expect(await vault.studyOriginals('2.25.1')).toEqual(
        new Map([
          ['2.25.11', identity(1)],
          ['2.25.12', identity(2)],
        ]),
      );
      expect(await vault.studyOriginals('2.25.9')).toEqual(new Map());
      const rows = await dumpRows();
      expect(rows).toContain('2.25.11');
      for (const original of ['SYNTHETIC', 'SYN-0001', '19700101', 'ACC-SYN-1', '1.2.3.4'])
        expect(rows.includes(original) || rows.includes(Buffer.from(original).toString('hex')), original).toBe(false);
    });

    it('keeps the first originals of an instance: keeping it again changes nothing', async () => {
      const { vault, second } = await open();
      await vault.keep({ studyUid: '2.25.1', sopInstanceUid: '2.25.11' }, identity(1));
      await second.keep({ studyUid: '2.25.1', sopInstanceUid: '2.25.11' }, identity(1, 'OTHER^NAME'));
      expect(await second.studyOriginals('2.25.1')).toEqual(new Map([['2.25.11', identity(1)]]));
    });

    it('refuses a row moved to another instance’s key', async () => {
      const { vault, moveRow } = await open();
      await vault.keep({ studyUid: '2.25.1', sopInstanceUid: '2.25.11' }, identity(1));
      await moveRow('2.25.11', '2.25.99');
      await expect(vault.studyOriginals('2.25.1')).rejects.toMatchObject({ code: 'RESULT_IDENTITY_UNAVAILABLE' });
    });
  });
}
