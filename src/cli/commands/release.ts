import { createInterface } from 'node:readline';
import { CHANGE_TYPES, SIGNATURE_MEANINGS, type ChangeType, type SignatureMeaning } from '../../domain/release/release-protocol.js';
import { shortVersionId } from '../../domain/registry/model-version.js';
import type { ReleaseView } from '../../workflows/releases.js';
import type { PackVerification } from '../../domain/release/evidence-pack.js';
import { EXIT_CODES, EXIT_OK } from '../exit-codes.js';
import { CANARY_FRACTION_MAX, CANARY_FRACTION_MIN } from '../../domain/deployment/deployment.js';
import { DECLARATION_OPTIONS, declarationArgs, numberOption, parseCommandArgs, printList, stringOption, usageError, type Command } from './command.js';
import { localActor, readPassword } from './users.js';

const USAGE = [
  'release create --type TYPE --site SITE --candidate VERSION --as USER [--json]',
  '      release list [--site SITE] [--json]',
  '      release show <REQUEST> [--json]',
  '      release gates <REQUEST> [--dataset SPEC [--modality CR --body-part CHEST --view PA --patient-age-years N]] [--json]',
  '      release sign <REQUEST> --user NAME --meaning "reviewed"|"approved for release" [--password-stdin] [--json]',
  '      release shadow <REQUEST> | release canary <REQUEST> --fraction F | release promote <REQUEST> [--json]',
  '      release evidence <REQUEST> [--out FILE] [--json]',
  '      release verify <PACK.zip> [--public-key PEM] [--json]',
].join('\n');

/** A pack's check report for a reader: one line per check, then the verdict. */
export function verificationLines(result: PackVerification): string {
  const lines = result.checks.map((c) => `${c.passed ? 'passed' : 'FAILED'}  ${c.check}: ${c.detail}`);
  lines.push(result.ok ? `evidence pack of ${result.requestId ?? '?'} verifies` : 'evidence pack DOES NOT verify');
  return lines.join('\n') + '\n';
}

/** A request's lines for a reader: state, what was decided on what evidence, who signed what and when. */
export function releaseLines(view: ReleaseView): string {
  const r = view.request;
  const lines = [
    `${r.requestId}  ${r.changeType} at ${r.site}: ${shortVersionId(r.candidateVersionId)} (replacing ${r.baselineVersionId === null ? 'nothing' : shortVersionId(r.baselineVersionId)})  state ${r.state}`,
    `  requested by ${r.requestedBy.userName} (${r.requestedBy.role}) at ${r.createdAt}; protocol ${r.protocolSha256}`,
    ...r.gates.map((g) => `  gate ${g.gate}: ${g.passed ? 'passed' : 'FAILED'} at ${g.at}: ${g.summary} (evidence ${g.evidenceSha256})`),
    ...r.signatures.map((s) => `  signed "${s.meaning}" by ${s.signer.userName} (${s.signer.role}) at ${s.at}`),
    ...(view.pendingGates.length === 0 ? [] : [`  gates to run: ${view.pendingGates.join(', ')}`]),
    ...view.missingApprovals.map((m) => `  signature needed: "${m.meaning}" by a ${m.role}`),
    ...(r.canaryFraction === null ? [] : [`  canary: ${r.canaryFraction} of the site's studies`]),
  ];
  return lines.join('\n') + '\n';
}

/** Asks for a password on the terminal without echoing it (stderr for the prompt, so stdout stays the result). */
async function promptPassword(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Node's readline has no public way to stop echoing; `_writeToOutput` is its undocumented hook (the only way short of a raw-mode reader).
  const muted = rl as typeof rl & { _writeToOutput: (s: string) => void };
  process.stderr.write(prompt);
  muted._writeToOutput = () => undefined;
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

/**
 * `vigil release`: release requests from the server's host (docs/releases.md). A request names a
 * person as its requester (`--as`); signing asks the signer's own password again (or reads it from
 * stdin with --password-stdin); shadow, canary and promote act as `local-cli`, audited.
 */
export const releaseCommand: Command = {
  usage: `${USAGE}\n      request a model change at a site, run its gates, sign it (re-authenticating), and roll it out: shadow, canary, production; write its evidence pack, and verify one offline`,
  async run(args, { io, services }) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseCommandArgs(
      rest,
      {
        json: { type: 'boolean' },
        type: { type: 'string' },
        site: { type: 'string' },
        candidate: { type: 'string' },
        as: { type: 'string' },
        dataset: { type: 'string' },
        user: { type: 'string' },
        meaning: { type: 'string' },
        'password-stdin': { type: 'boolean' },
        fraction: { type: 'string' },
        out: { type: 'string' },
        'public-key': { type: 'string' },
        ...DECLARATION_OPTIONS,
      },
      USAGE,
    );
    const print = (view: ReleaseView): number => {
      io.stdout(values.json === true ? JSON.stringify(view) + '\n' : releaseLines(view));
      return EXIT_OK;
    };
    const requestId = (): string => {
      if (positionals.length !== 1) throw usageError(`release ${sub ?? ''} needs one request id`, USAGE);
      return positionals[0] as string;
    };
    // Offline: a pack and a public key, nothing of the store (a QA reader's machine has none).
    if (sub === 'verify') {
      if (positionals.length !== 1) throw usageError('release verify needs one evidence pack (a zip)', USAGE);
      const publicKey = stringOption(values['public-key']);
      const result = await services().verifyEvidencePack(positionals[0] as string, publicKey);
      io.stdout(values.json === true ? JSON.stringify(result) + '\n' : verificationLines(result));
      return result.ok ? EXIT_OK : EXIT_CODES.RELEASE_EVIDENCE_INVALID;
    }
    if (sub === 'evidence') {
      // The id whole (a unique prefix may be given): the default file is named by it.
      const id = (await (await services().releases()).show(requestId())).request.requestId;
      const out = stringOption(values.out) ?? `evidence-${id}.zip`;
      const { zip, manifest } = await services().releaseEvidencePack(id, out);
      if (values.json === true) io.stdout(JSON.stringify({ out, bytes: zip.length, manifest }) + '\n');
      else io.stdout(`evidence pack of ${id} written to ${out}: ${manifest.files.length + 1} files, ${zip.length} bytes\n`);
      return EXIT_OK;
    }
    const releases = await services().releases();
    const actor = localActor();
    switch (sub ?? '') {
      case 'create': {
        const type = stringOption(values.type);
        const site = stringOption(values.site);
        const candidate = stringOption(values.candidate);
        const as = stringOption(values.as);
        if (type === undefined || !(CHANGE_TYPES as readonly string[]).includes(type))
          throw usageError(`--type must be one of ${CHANGE_TYPES.join(', ')}`, USAGE);
        if (site === undefined || candidate === undefined || as === undefined)
          throw usageError('release create needs --site, --candidate and --as USER (the requester)', USAGE);
        return print(await releases.create({ userName: as }, { changeType: type as ChangeType, site, candidate }));
      }
      case 'list': {
        const site = stringOption(values.site);
        const views = await releases.list(site === undefined ? {} : { site });
        if (values.json === true) io.stdout(JSON.stringify({ releases: views }) + '\n');
        else printList(io, views, releaseLines, 'No release requests.');
        return EXIT_OK;
      }
      case 'show':
        return print(await releases.show(requestId()));
      case 'gates': {
        const dataset = stringOption(values.dataset);
        const declared = declarationArgs(values, USAGE);
        const run = await releases.runGates(actor, requestId(), {
          ...(dataset === undefined ? {} : { dataset }),
          ...(declared === undefined ? {} : { declared }),
        });
        if (values.json === true) io.stdout(JSON.stringify(run) + '\n');
        else {
          for (const g of run.ran) io.stdout(`gate ${g.gate}: ${g.passed ? 'passed' : 'FAILED'}: ${g.summary}\n`);
          if (run.waiting !== null) io.stdout(`waiting: ${run.waiting}\n`);
          io.stdout(releaseLines(run.release));
        }
        return EXIT_OK;
      }
      case 'sign': {
        const user = stringOption(values.user);
        const meaning = stringOption(values.meaning);
        if (user === undefined) throw usageError('release sign needs --user NAME (the signer)', USAGE);
        if (meaning === undefined || !(SIGNATURE_MEANINGS as readonly string[]).includes(meaning)) {
          throw usageError(`--meaning must be ${SIGNATURE_MEANINGS.map((m) => `"${m}"`).join(' or ')}`, USAGE);
        }
        const id = requestId();
        let password: string;
        if (values['password-stdin'] === true) password = await readPassword('-');
        else if (process.stdin.isTTY) password = await promptPassword(`password for ${user} (signing "${meaning}"): `);
        else throw usageError('release sign asks the signer’s password on a terminal, or reads it with --password-stdin', USAGE);
        return print(await releases.sign(id, { userName: user }, meaning as SignatureMeaning, { password }));
      }
      case 'shadow':
        return print(await releases.startShadow(actor, requestId()));
      case 'canary': {
        const fraction = numberOption(values.fraction, 'fraction', USAGE, { min: CANARY_FRACTION_MIN, max: CANARY_FRACTION_MAX });
        if (fraction === undefined) throw usageError(`release canary needs --fraction F (between ${CANARY_FRACTION_MIN} and ${CANARY_FRACTION_MAX})`, USAGE);
        return print(await releases.startCanary(actor, requestId(), fraction));
      }
      case 'promote':
        return print(await releases.promote(actor, requestId()));
      default:
        throw usageError('release needs create, list, show, gates, sign, shadow, canary, promote, evidence or verify', USAGE);
    }
  },
};
