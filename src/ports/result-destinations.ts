/** Where results go, as the delivery workflow sees it. Adapters own the protocols. */

/** A DICOM Application Entity to C-STORE results to (VIGIL_RESULT_DICOM_DESTINATION, "AE@host:port"). */
export interface DicomDestination {
  readonly aeTitle: string;
  readonly host: string;
  readonly port: number;
}

export interface DicomResultSender {
  /**
   * Sends one Part 10 file by C-STORE on its own association; resolves once the destination answered
   * success (or a warning: the instance was kept). Throws RESULT_DELIVERY_FAILED otherwise, with the
   * DIMSE status when there was one.
   */
  send(part10: Uint8Array): Promise<void>;
}

export interface WebhookSender {
  /**
   * POSTs the JSON body, signed (HMAC-SHA-256 over "<timestamp>.<body>"); resolves on a 2xx answer.
   * `deliveryId` is the same for every attempt, so the receiver can drop a resend. Throws
   * RESULT_DELIVERY_FAILED otherwise (never quoting the URL, which may hold a token).
   */
  post(body: string, deliveryId: string): Promise<void>;
}
