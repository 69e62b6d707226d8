import { describe, expect, it } from 'vitest';
import type { UserRecord } from '../ports/access-store.js';
import { dicomSenderResolver, parseDicomSenders } from './dicom-senders.js';
import { cachedUserDirectory } from './user-directory.js';

const user = (userId: string, name: string, disabled = false): UserRecord => ({
  userId,
  name,
  role: 'integration',
  createdAt: '2026-01-01T00:00:00.000Z',
  disabled,
});

describe('DICOM senders', () => {
  it('reads AE=user pairs', () => {
    expect([...parseDicomSenders(' PACS = pacs ,CT_1=modality-ct')]).toEqual([
      ['PACS', 'pacs'],
      ['CT_1', 'modality-ct'],
    ]);
    expect(parseDicomSenders('').size).toBe(0);
  });

  it('names the configured user of a calling AE title, none for another title or a disabled account, and sees new accounts after a minute', async () => {
    let users = [user('u-1', 'pacs'), user('u-2', 'old', true)];
    let lists = 0;
    let now = 0;
    const senderOf = dicomSenderResolver(
      cachedUserDirectory(
        {
          listUsers: () => {
            lists++;
            return Promise.resolve(users);
          },
        },
        () => now,
      ),
      parseDicomSenders('PACS=pacs,OLD=old,LATER=later'),
    );
    expect(await senderOf('PACS ')).toEqual({ senderId: 'u-1' });
    expect(await senderOf('OTHER')).toEqual({});
    expect(await senderOf('OLD')).toEqual({});
    expect(await senderOf('LATER')).toEqual({});
    expect(lists, 'looked up once within the minute').toBe(1);
    users = [...users, user('u-3', 'later')];
    now = 60_001;
    expect(await senderOf('LATER')).toEqual({ senderId: 'u-3' });
  });
});
