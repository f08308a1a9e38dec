/**
 * `courtside simulate`: a fleet of virtual boards against a running gateway,
 * for demos and quick load checks. Prints one summary line; exit 2 on a bad
 * command line, 1 if no board ever connected.
 */
import { DEFAULT_PORT } from '../../firmware-protocol/index.js';
import { normalizeFingerprint } from '../../firmware-protocol/tls.js';
import { HELP_OPTION, numberFlag, parse, runCommand, UsageError } from '../cli/args.js';
import { untilStopped, type CommandIO } from '../cli/io.js';
import { startFleet } from './fleet.js';
import type { StreamMode } from './board.js';
import { parseOtaFailSpec } from './ota.js';

export const SIMULATE_HELP = `usage: courtside simulate [options]

Runs virtual ESP32 racket boards (racket-1..N) against a Courtside gateway.

  --url URL        gateway base URL (default ws://127.0.0.1:${DEFAULT_PORT})
  --devices N      number of boards, 1-1000 (default 1)
  --rate HZ        IMU samples per second per board, 1-2000 (default 100)
  --seconds S      how long to run, > 0 (default 10)
  --mode M         sample (one sensor_data per sample), binary (the binary
                   frame every 100 ms) or batch (one
                   batch_sensor_data per 100 ms) (default batch)
  --token T        device token, for a gateway in --device-auth token mode
  --fingerprint F  SHA-256 of the gateway's certificate (serve --tls prints it)
                   for a wss:// URL: connect only to a gateway with it
  --idle           stream only between start_collection and stop_collection
                   commands instead of from the start
  --ota-fail SPEC  how boards fail ota_update: download, verify, rollback or
                   refuse for every board, or racket-3=rollback,racket-5=download
                   (default: every update succeeds)
  -h, --help       show this help
`;

interface SimulateArgs {
  help: boolean;
  url: string;
  devices: number;
  rate: number;
  seconds: number;
  mode: StreamMode;
  token: string | undefined;
  fingerprint: string | undefined;
  idle: boolean;
  otaFail: Exclude<ReturnType<typeof parseOtaFailSpec>, string> | null;
}

function parseSimulateArgs(argv: string[]): SimulateArgs {
  const { values } = parse(argv, {
    url: { type: 'string' },
    devices: { type: 'string' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    mode: { type: 'string' },
    token: { type: 'string' },
    fingerprint: { type: 'string' },
    idle: { type: 'boolean' },
    'ota-fail': { type: 'string' },
    ...HELP_OPTION,
  });
  const url = values.url ?? `ws://127.0.0.1:${DEFAULT_PORT}`;
  if (!/^wss?:\/\/[^/\s]+/.test(url)) throw new UsageError(`--url must start with ws:// or wss://, got '${url}'`);
  const mode = values.mode ?? 'batch';
  if (mode !== 'sample' && mode !== 'batch' && mode !== 'binary') throw new UsageError(`--mode must be sample, batch or binary, got '${mode}'`);
  if (values.token !== undefined && values.token === '') throw new UsageError('--token must not be empty');
  if (values.fingerprint !== undefined && normalizeFingerprint(values.fingerprint) === null) throw new UsageError(`--fingerprint must be 64 hex digits (colons allowed), got '${values.fingerprint}'`);
  if (values.fingerprint !== undefined && !url.startsWith('wss:')) throw new UsageError('--fingerprint needs a wss:// --url');
  const otaFail = values['ota-fail'] === undefined ? null : parseOtaFailSpec(values['ota-fail']);
  if (typeof otaFail === 'string') throw new UsageError(`--ota-fail: ${otaFail}`);
  return {
    help: values.help ?? false,
    url,
    devices: numberFlag('devices', values.devices, { min: 1, max: 1000, integer: true }) ?? 1,
    rate: numberFlag('rate', values.rate, { min: 1, max: 2000 }) ?? 100,
    seconds: numberFlag('seconds', values.seconds, { min: 0.001, max: 7 * 24 * 3600 }) ?? 10,
    mode,
    token: values.token,
    fingerprint: values.fingerprint,
    idle: values.idle ?? false,
    otaFail,
  };
}

export function simulateCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, () => simulate(parseSimulateArgs(argv), io), { prefix: 'courtside simulate', seeHelp: true });
}

async function simulate(args: SimulateArgs, io: CommandIO): Promise<number> {
  if (args.help) {
    io.stdout.write(SIMULATE_HELP);
    return 0;
  }

  const fleet = startFleet({
    url: args.url,
    devices: args.devices,
    rateHz: args.rate,
    mode: args.mode,
    streamAlways: !args.idle,
    otaFor: (code) => {
      const fail = args.otaFail?.byBoard.get(code) ?? args.otaFail?.all ?? undefined;
      return fail ? { fail } : undefined;
    },
    ...(args.token ? { token: args.token } : {}),
    ...(args.fingerprint ? { fingerprint: args.fingerprint } : {}),
  });
  const startedAt = Date.now();
  // Ctrl-C ends the run early but still prints the summary.
  const stop = untilStopped(io);
  const interrupted = stop.stopped.then(() => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([interrupted, new Promise<void>((r) => { timer = setTimeout(r, args.seconds * 1000); })]);
    // Frames sent in the last instants deserve their ack before being counted as lost.
    if (fleet.totals().connected > 0) await Promise.race([interrupted, fleet.drain(2000)]);
  } finally {
    clearTimeout(timer);
    stop.dispose();
    await fleet.stop();
  }
  const t = fleet.totals();
  const secs = ((Date.now() - startedAt) / 1000).toFixed(1);
  io.stdout.write(
    `simulated ${t.boards} board${t.boards === 1 ? '' : 's'} (${t.everConnected} connected) for ${secs} s at ${args.rate} Hz, ${args.mode} mode: ` +
      `${t.framesSent} frames sent (${t.resent} resent), ${t.acked} acked, ${t.errors} errors, ${t.reconnects} reconnects\n`,
  );
  return t.everConnected > 0 ? 0 : 1;
}
