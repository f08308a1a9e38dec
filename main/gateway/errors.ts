/**
 * The gateway's error catalogue (the fastify way): every error an operator can
 * see outside a frame has a stable code and its text lives here. Frame errors
 * that boards and apps see are in firmware-protocol/errors.ts.
 */
export const GatewayErrorCodes = {
  PORT_IN_USE: (port: unknown) => `port ${String(port)} is already in use; choose another with --port`,
  LISTEN_FAILED: (detail: unknown) => `cannot listen: ${String(detail)}`,
  DATA_DIR_UNWRITABLE: (dir: unknown) => `cannot write to the data folder ${String(dir)}; choose another with --data-dir`,
  BAD_OPERATOR_TOKEN: () => 'operator token must be 16 to 256 characters of letters, digits, - or _',
  DB_OPEN_FAILED: (detail: unknown) => `cannot open the database: ${String(detail)}`,
  UNAUTHORIZED: () => 'operator token missing or invalid',
  FORBIDDEN_ORIGIN: (origin: unknown) => `origin ${String(origin)} is not allowed`,
  NOT_FOUND: (what: unknown) => `${String(what)} not found`,
  BAD_REQUEST: (detail: unknown) => String(detail),
  TOO_MANY_CONNECTIONS: () => 'too many connections',
  UNAVAILABLE: (detail: unknown) => `temporarily unavailable: ${String(detail)}`,
} as const;

export type GatewayErrorCode = keyof typeof GatewayErrorCodes;

export class GatewayError extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly httpStatus = 500,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

export function gatewayError<C extends GatewayErrorCode>(code: C, arg?: unknown, httpStatus?: number): GatewayError {
  const make = GatewayErrorCodes[code] as (a?: unknown) => string;
  return new GatewayError(code, make(arg), httpStatus);
}
