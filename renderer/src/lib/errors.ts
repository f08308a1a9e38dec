/**
 * Errors from the gateway, in words an operator understands. The gateway's
 * codes are stable (firmware-protocol/errors.ts, main/gateway/errors.ts); its
 * messages name the field or thing at fault, so they are kept as the detail.
 */

/** Codes the client adds for failures that never reached the gateway or never came back. */
export type LocalErrorCode = 'TIMEOUT' | 'DISCONNECTED' | 'NETWORK' | 'BAD_REPLY';

export class GatewayRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The request type or HTTP path that failed, for the log. */
    readonly what: string,
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = 'GatewayRequestError';
  }
}

const SENTENCES: Record<string, (detail: string) => string> = {
  TIMEOUT: () => 'The gateway did not answer in time. It may be busy or stopped; try again.',
  DISCONNECTED: () => 'Not connected to the gateway, so nothing was sent. The connection comes back by itself; try again then.',
  NETWORK: () => 'The gateway could not be reached. Check that it is running and that this device is on the same network.',
  BAD_REPLY: () => 'The gateway sent an answer this page does not understand. Reload the page; if it persists, the gateway and the page may be of different versions.',
  UNAUTHORIZED: () => 'The operator token was not accepted. Open the address printed when the gateway started, or paste its token.',
  FORBIDDEN_ORIGIN: () => 'The gateway refuses requests from this address. Open the UI at the gateway’s own address.',
  NOT_FOUND: (d) => (d ? capitalize(d) + '.' : 'That no longer exists.'),
  TARGET_NOT_FOUND: (d) => (d ? capitalize(d) + '.' : 'The recipient is not connected any more.'),
  BAD_FRAME: (d) => `The gateway rejected the request: ${d || 'a field is missing or wrong'}.`,
  BAD_REQUEST: (d) => `The gateway rejected the request: ${d || 'a field is missing or wrong'}.`,
  UNKNOWN_TYPE: () => 'This gateway does not offer that yet (it may be an older version).',
  RATE_LIMITED: () => 'Too many requests at once; the gateway dropped one. Wait a moment and try again.',
  FRAME_TOO_LARGE: () => 'That is too large to send to the gateway.',
  UNAVAILABLE: (d) => `The gateway could not do that right now${d ? ` (${d})` : ''}. Try again in a moment.`,
  TOO_MANY_CONNECTIONS: () => 'The gateway has too many connections open. Close other windows or wait.',
};

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** One sentence (or two) for any error, thrown by the client or not. */
export function describeError(err: unknown): string {
  if (err instanceof GatewayRequestError) {
    const make = SENTENCES[err.code];
    if (make) return make(err.message);
    if (err.httpStatus && err.httpStatus >= 500) return `The gateway failed to do that (${err.message}). Try again; if it persists, check the gateway’s log.`;
    return err.message ? capitalize(err.message) : `The gateway answered with error ${err.code}.`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
