import { open } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { ACCOUNT_NAME_RULE, isAccountName } from '../../domain/access/account-rules.js';
import { isRole, ROLES } from '../../domain/access/roles.js';
import { PlatformError } from '../../domain/errors.js';
import type { AccountActor } from '../../workflows/manage-accounts.js';
import { EXIT_OK } from '../exit-codes.js';
import { numberOption, parseCommandArgs, printList, stringOption, usageError, type Command } from './command.js';

const USAGE = [
  'users list [--json]',
  '      users tokens --user NAME [--json]',
  '      users token --user NAME [--role ROLE] [--label TEXT] [--expires-days N]',
  '      users revoke --user NAME --token TOKEN_ID',
  '      users enable --user NAME | users disable --user NAME',
  '      users set-password --user NAME --password-file FILE|-',
].join('\n');

/** A password file is one line; more than this is not a password. */
const MAX_PASSWORD_FILE_BYTES = 4096;

/** Who ran the command, for the audit trail: the operating-system account (never a secret). */
export function localActor(): Extract<AccountActor, { kind: 'local-cli' }> {
  let osUser = 'unknown';
  try {
    osUser = userInfo().username.slice(0, 64) || 'unknown';
  } catch {
    // No passwd entry (some containers): the entry still says it was the local command line.
  }
  return { kind: 'local-cli', osUser };
}

/** Reads a password from a file or stdin (`-`): at most 4 KiB, one trailing newline removed. */
export async function readPassword(source: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  const stream =
    source === '-'
      ? process.stdin
      : (
          await open(source).catch((cause: unknown) => {
            throw new PlatformError('INPUT_NOT_FOUND', 'The password file cannot be opened', {}, { cause });
          })
        ).createReadStream();
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_PASSWORD_FILE_BYTES) throw new PlatformError('INPUT_TOO_LARGE', `A password file holds at most ${MAX_PASSWORD_FILE_BYTES} bytes`, {});
      chunks.push(chunk);
    }
  } catch (cause) {
    // A directory opens, and fails at the first read (EISDIR): the same answer as every file a command takes (files-fs/read-bounded-file.ts).
    if (cause instanceof PlatformError) throw cause;
    const errno = (cause as NodeJS.ErrnoException).code ?? 'unknown';
    throw new PlatformError(
      'INPUT_UNREADABLE',
      `The password file ${errno === 'EISDIR' ? 'is a directory: give a file' : `cannot be read (${errno})`}`,
      { errno },
      { cause },
    );
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * `vigil users`: accounts and tokens from the server's host, without a token. Run with the data folder
 * (or VIGIL_DATABASE_URL) the server uses; it is the recovery path when the last administrator's token
 * is lost. Every change is audited as `local-cli` with the operating-system account.
 */
export const usersCommand: Command = {
  usage: `${USAGE}\n      manage accounts and API tokens locally (no token needed; audited as local-cli): the recovery path`,
  async run(args, { io, services }) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseCommandArgs(
      rest,
      {
        json: { type: 'boolean' },
        user: { type: 'string' },
        role: { type: 'string' },
        label: { type: 'string' },
        'expires-days': { type: 'string' },
        token: { type: 'string' },
        'password-file': { type: 'string' },
      },
      USAGE,
    );
    if (positionals.length > 0) throw usageError(`users ${sub ?? ''} takes no positional arguments`, USAGE);
    const name = stringOption(values.user);
    const needUser = (): string => {
      if (name === undefined) throw usageError(`users ${sub ?? ''} needs --user NAME`, USAGE);
      return name;
    };
    const accounts = await services().accounts();
    const actor = localActor();

    switch (sub ?? '') {
      case 'list': {
        const users = await accounts.listUsers();
        if (values.json === true) io.stdout(JSON.stringify({ users }) + '\n');
        else printList(io, users, (u) => `${u.name}\t${u.role}\t${u.disabled ? 'disabled' : 'enabled'}\t${u.userId}\n`, 'No users.');
        return EXIT_OK;
      }
      case 'tokens': {
        const { tokens } = await accounts.listTokens((await accounts.userNamed(needUser())).userId);
        if (values.json === true) io.stdout(JSON.stringify({ tokens }) + '\n');
        else
          printList(
            io,
            tokens,
            (t) => {
              const state = t.revokedAt !== null ? `revoked ${t.revokedAt}` : t.expiresAt !== null ? `expires ${t.expiresAt}` : 'live';
              return `${t.tokenId}\t${t.label}\tcreated ${t.createdAt}\tlast used ${t.lastUsedAt ?? 'never'}\t${state}\n`;
            },
            'No tokens.',
          );
        return EXIT_OK;
      }
      case 'token': {
        const userName = needUser();
        const roleText = stringOption(values.role);
        if (roleText !== undefined && !isRole(roleText)) throw usageError(`--role must be one of ${ROLES.join(', ')}`, USAGE);
        const expiresInDays = numberOption(values['expires-days'], 'expires-days', USAGE, { min: 1, max: 366, integer: true });
        const request = { label: stringOption(values.label) ?? 'vigil users token', ...(expiresInDays === undefined ? {} : { expiresInDays }) };
        const existing = (await accounts.listUsers()).find((u) => u.name === userName);
        let issued;
        if (existing === undefined) {
          // Refused before it is suggested as a new name (the workflow refuses it again when creating).
          if (!isAccountName(userName)) throw new PlatformError('REQUEST_INVALID', `No user has this name, and an account name is ${ACCOUNT_NAME_RULE}`);
          if (roleText === undefined) throw new PlatformError('ACCESS_USER_NOT_FOUND', 'No user has this name (give --role to create it)');
          issued = (await accounts.createUser(actor, userName, roleText, request)).token;
          io.stderr(`created user ${userName} (${roleText})\n`);
        } else {
          if (roleText !== undefined && roleText !== existing.role) {
            throw usageError(`user ${userName} exists with role ${existing.role}; change a role with PATCH /api/users/{userId} or the Users screen`, USAGE);
          }
          if (existing.disabled) io.stderr(`note: ${userName} is disabled; the token works once it is enabled (vigil users enable --user ${userName})\n`);
          issued = await accounts.issueToken(actor, existing.userId, request);
        }
        // The secret alone on stdout (for TOKEN=$(vigil users token …)); what it is, on stderr.
        io.stdout(issued.secret + '\n');
        io.stderr(`token ${issued.tokenId} for ${userName}${issued.expiresAt === null ? '' : `, expires ${issued.expiresAt}`}; shown this once\n`);
        return EXIT_OK;
      }
      case 'revoke': {
        const tokenId = stringOption(values.token);
        if (tokenId === undefined) throw usageError('users revoke needs --token TOKEN_ID', USAGE);
        await accounts.revokeToken(actor, (await accounts.userNamed(needUser())).userId, tokenId);
        io.stdout(`revoked ${tokenId}\n`);
        return EXIT_OK;
      }
      case 'enable':
      case 'disable': {
        const user = await accounts.updateUser(actor, (await accounts.userNamed(needUser())).userId, { disabled: sub === 'disable' });
        io.stdout(`${user.name} (${user.role}) ${user.disabled ? 'disabled' : 'enabled'}\n`);
        return EXIT_OK;
      }
      case 'set-password':
      case 'reset-password': {
        const source = stringOption(values['password-file']);
        if (source === undefined)
          throw usageError('users set-password needs --password-file FILE (or - for stdin); a password never goes on the command line', USAGE);
        const user = await accounts.userNamed(needUser());
        const { sessionsEnded } = await accounts.setPasswordLocally(actor, user.userId, await readPassword(source));
        io.stdout(`password set for ${user.name}; ${sessionsEnded} session(s) ended\n`);
        return EXIT_OK;
      }
      default:
        throw usageError('users needs list, tokens, token, revoke, enable, disable or set-password', USAGE);
    }
  },
};
