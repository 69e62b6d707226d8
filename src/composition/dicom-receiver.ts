/**
 * The DICOM receiver (C-STORE SCP): loaded on first use (vigil serve), it hands each received
 * instance to ingest with who sent it (a DICOM sender's account, by calling AE title) and the site
 * it comes from.
 */
import { join } from 'node:path';
import type { VigilConfig } from '../config/load-config.js';
import type { DicomReceiver } from '../ports/dicom-receiver.js';
import type { Logger } from '../ports/logger.js';
import { dicomSenderResolver, parseDicomSenders } from '../workflows/dicom-senders.js';
import type { ServiceLoop } from '../workflows/service-loop.js';
import type { UserDirectory } from '../workflows/user-directory.js';

/** Starts the receiver on VIGIL_DICOM_PORT (0: any free port) and returns it with the port it listens on. */
export async function startDicomReceiver(
  config: VigilConfig,
  logger: Logger,
  parts: {
    readonly loop: Pick<ServiceLoop, 'receive'>;
    /** The accounts as ingest reads them (DICOM senders by name). */
    readonly users: () => Promise<UserDirectory>;
    /** The configured site an instance comes from, by calling AE title. */
    readonly siteOf: (callingAeTitle: string) => string;
  },
): Promise<{ readonly receiver: DicomReceiver; readonly port: number }> {
  const { DimseDcmjsReceiver, RECEIVABLE_TRANSFER_SYNTAXES } = await import('../adapters/dimse-dcmjs/dimse-dcmjs-receiver.js');
  const receiver = new DimseDcmjsReceiver(
    {
      port: config.dicomPort,
      host: config.dicomHost,
      aeTitle: config.dicomAeTitle,
      allowlist: {
        callingAeTitles: config.dicomAllowedAeTitles.trim() === '*' ? '*' : splitList(config.dicomAllowedAeTitles),
        ...(config.dicomAllowedHosts.trim() === '' ? {} : { hosts: splitList(config.dicomAllowedHosts) }),
      },
      acceptedTransferSyntaxes: RECEIVABLE_TRANSFER_SYNTAXES,
      associateTimeoutMs: config.dicomAssociateTimeoutMs,
      idleTimeoutMs: config.dicomIdleTimeoutMs,
      incomingDir: join(config.dataDir, 'incoming'),
      minFreeDiskBytes: config.minFreeDiskBytes,
      maxAssociations: config.dicomMaxAssociations,
      maxAssociationsPerHost: config.dicomMaxAssociationsPerHost,
    },
    { logger },
  );
  const senderOf = dicomSenderResolver(parts.users, parseDicomSenders(config.dicomSenderUsers));
  const { port } = await receiver.start(async (instance) => {
    const outcome = await parts.loop.receive(await instance.bytes(), {
      ...(await senderOf(instance.callingAeTitle)),
      site: parts.siteOf(instance.callingAeTitle),
    });
    return outcome.status === 'refused' ? { status: 'refused', reason: outcome.reason, code: outcome.code } : { status: outcome.status };
  });
  return { receiver, port };
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
