/**
 * The error catalogue, in the style of fastify's `createError`: each entry is
 * a stable code, the HTTP status it answers with, and its message template.
 * Every error a user can see is raised from a catalogue through `raise`, so
 * the wording and the status live in one place. Clients match on `code`;
 * `message` is for people.
 *
 * The frame codes (firmware-protocol's FrameErrorCodes) are the ones boards
 * and apps see in `error` frames; here they get their HTTP status, and the
 * gateway's own codes (start-up, operator API) sit beside them. USB defines
 * its entries the same way (usb/errors.ts) and joins them in one table.
 */
import { FrameErrorCodes, type FrameErrorCode } from '../../firmware-protocol/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- templates take whatever their entry declares
type Template = (...args: any[]) => string;

export interface ErrorEntry<T extends Template = Template> {
  /** HTTP status of the operator API (and the CLI's exit code family). */
  readonly status: number;
  readonly message: T;
}

export type ErrorCatalogue = Record<string, ErrorEntry>;

/** An error a user may see: code, message and HTTP status from a catalogue entry. */
export class CourtsideError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    /** The lower-level error, for logs (never shown as the message). */
    readonly detail?: unknown,
  ) {
    super(message);
    this.name = 'CourtsideError';
  }

  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** Typed `raise(code, ...templateArgs)` and `raiseWithCause(cause, code, ...)` over one catalogue. */
export function errorFactory<C extends ErrorCatalogue>(catalogue: C) {
  const make = <K extends keyof C & string>(detail: unknown, code: K, args: unknown[]): CourtsideError => {
    const e = catalogue[code]!;
    return new CourtsideError(code, (e.message as Template)(...args), e.status, detail);
  };
  return {
    raise: <K extends keyof C & string>(code: K, ...args: Parameters<C[K]['message']>) => make(undefined, code, args),
    raiseWithCause: <K extends keyof C & string>(cause: unknown, code: K, ...args: Parameters<C[K]['message']>) => make(cause, code, args),
  };
}

/** The text of anything thrown: the one place an unknown value becomes a message. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}

const FRAME_STATUS: Record<FrameErrorCode, number> = {
  INVALID_JSON: 400,
  NOT_AN_OBJECT: 400,
  BAD_FRAME: 400,
  UNKNOWN_TYPE: 404,
  NOT_IDENTIFIED: 400,
  ROOM_NOT_FOUND: 404,
  ROOM_FORBIDDEN: 403,
  TARGET_NOT_FOUND: 404,
  RATE_LIMITED: 429,
  FRAME_TOO_LARGE: 413,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  UNAVAILABLE: 503,
  BAD_BINARY: 400,
  CONFLICT: 409,
  QUOTA_EXCEEDED: 429,
  HANDLER_FAILED: 500,
};

/** Frame codes as catalogue entries; the message is the caller's, or the code's default line. */
const frameEntries = Object.fromEntries(
  (Object.keys(FrameErrorCodes) as FrameErrorCode[]).map((code) => [code, { status: FRAME_STATUS[code], message: (detail?: string) => detail ?? FrameErrorCodes[code] }]),
) as { [K in FrameErrorCode]: ErrorEntry<(detail?: string) => string> };

export const GatewayErrors = {
  ...frameEntries,
  PORT_IN_USE: { status: 500, message: (port: number) => `port ${port} is already in use; choose another with --port` },
  LISTEN_FAILED: { status: 500, message: (detail: string) => `cannot listen: ${detail}` },
  DATA_DIR_UNWRITABLE: { status: 500, message: (dir: string) => `cannot write to the data folder ${dir}; choose another with --data-dir` },
  BAD_OPERATOR_TOKEN: { status: 400, message: () => 'operator token must be 16 to 256 characters of letters, digits, - or _' },
  TLS_FILES_UNREADABLE: { status: 500, message: (detail: string) => `cannot read the TLS certificate or key: ${detail}` },
  TLS_FILES_INVALID: { status: 500, message: (detail: string) => `the TLS certificate or key is not usable: ${detail}` },
  TLS_REQUIRED: { status: 403, message: (detail: string) => `this gateway speaks HTTPS only; use https:// (wss:// for WebSockets)${detail}` },
  TLS_CERT_FAILED: { status: 500, message: (detail: string) => `cannot make the TLS certificate: ${detail}` },
  DB_OPEN_FAILED: { status: 500, message: (detail: string) => `cannot open the database: ${detail}` },
  DUPLICATE_REQUEST: { status: 500, message: (type: string, a: string, b: string) => `request type '${type}' is claimed by both ${a} and ${b}` },
  DUPLICATE_ROUTE: { status: 500, message: (route: string, a: string, b: string) => `HTTP route '${route}' is claimed by both ${a} and ${b}` },
  DUPLICATE_HOOK: { status: 500, message: (hook: string, a: string, b: string) => `data-plane hook '${hook}' is provided by both ${a} and ${b}` },
  FORBIDDEN_ORIGIN: { status: 403, message: (origin?: string) => `origin ${origin ?? '(none)'} is not allowed` },
  FORBIDDEN_HOST: { status: 403, message: (host?: string) => `host ${host ?? '(none)'} is not a name of this gateway; add it with --allow-host` },
  BAD_REQUEST: { status: 400, message: (detail: string) => detail },
  METHOD_NOT_ALLOWED: { status: 405, message: (method: string, path: string) => `${method} is not allowed on ${path}` },
  BODY_TOO_LARGE: { status: 413, message: (max: number) => `body larger than ${max} bytes` },
  JWT_KEY_INVALID: { status: 400, message: (file: string, detail: string) => `cannot use the JWT public key ${file}: ${detail}` },
  REDIS_NEEDS_SHARED_DB: { status: 400, message: () => '--redis joins gateways that share one MySQL/MariaDB database; SQLite is for a single gateway (give --db mysql://...)' },
  REDIS_UNAVAILABLE: { status: 500, message: (url: string, detail: string) => `cannot reach Redis at ${url}: ${detail}` },
  SETTINGS_INVALID: { status: 400, message: (detail: string) => `settings: ${detail}` },
} as const satisfies ErrorCatalogue;

export type GatewayErrorCode = keyof typeof GatewayErrors;

export const { raise: gatewayError, raiseWithCause: gatewayErrorWithCause } = errorFactory(GatewayErrors);

/** Kept as a name for `instanceof` checks in the CLI and the desktop app. */
export { CourtsideError as GatewayError };
