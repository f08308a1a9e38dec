/**
 * `courtside simulate`: a fleet of virtual boards against a running gateway,
 * for demos and quick load checks. Prints one summary line; exit 2 on a bad
 * command line, 1 if no board ever connected.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_PORT } from '../../firmware-protocol/index.js';
import { startFleet } from './fleet.js';
import type { StreamMode } from './board.js';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const processIo: CliIo = {
  out: (line) => void process.stdout.write(line + '\n'),
  err: (line) => void process.stderr.write(line + '\n'),
};

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
  --idle           stream only between start_collection and stop_collection
                   commands instead of from the start
  -h, --help       show this help`;

class UsageError extends Error {}

function num(name: string, raw: string | undefined, dflt: number, min: number, max: number, integer: boolean): number {
  if (raw === undefined) return dflt;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got '${raw}'`);
  }
  return v;
}

interface SimulateArgs {
  help: boolean;
  url: string;
  devices: number;
  rate: number;
  seconds: number;
  mode: StreamMode;
  token: string | undefined;
  idle: boolean;
}

function parse(argv: string[]): SimulateArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        devices: { type: 'string' },
        rate: { type: 'string' },
        seconds: { type: 'string' },
        mode: { type: 'string' },
        token: { type: 'string' },
        idle: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    // parseArgs appends advice about '--' to some messages; the first sentence is the part a user needs.
    const msg = (e instanceof Error ? e.message : String(e)).split(/\.\s|\n/)[0]!.replace(/\.$/, '');
    throw new UsageError(msg);
  }
  const url = values.url ?? `ws://127.0.0.1:${DEFAULT_PORT}`;
  if (!/^wss?:\/\/[^/\s]+/.test(url)) throw new UsageError(`--url must start with ws:// or wss://, got '${url}'`);
  const mode = values.mode ?? 'batch';
  if (mode !== 'sample' && mode !== 'batch' && mode !== 'binary') throw new UsageError(`--mode must be sample, batch or binary, got '${mode}'`);
  if (values.token !== undefined && values.token === '') throw new UsageError('--token must not be empty');
  return {
    help: values.help ?? false,
    url,
    devices: num('devices', values.devices, 1, 1, 1000, true),
    rate: num('rate', values.rate, 100, 1, 2000, false),
    seconds: num('seconds', values.seconds, 10, 0.001, 7 * 24 * 3600, false),
    mode,
    token: values.token,
    idle: values.idle ?? false,
  };
}

export async function simulateCommand(argv: string[], io: CliIo = processIo): Promise<number> {
  let args: SimulateArgs;
  try {
    args = parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`courtside simulate: ${e.message} (see --help)`);
    return 2;
  }
  if (args.help) {
    io.out(SIMULATE_HELP);
    return 0;
  }

  const fleet = startFleet({
    url: args.url,
    devices: args.devices,
    rateHz: args.rate,
    mode: args.mode,
    streamAlways: !args.idle,
    ...(args.token ? { token: args.token } : {}),
  });
  const startedAt = Date.now();
  // Ctrl-C ends the run early but still prints the summary.
  let interrupt: () => void = () => {};
  const interrupted = new Promise<void>((resolve) => { interrupt = resolve; });
  process.once('SIGINT', interrupt);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([interrupted, new Promise<void>((r) => { timer = setTimeout(r, args.seconds * 1000); })]);
    // Frames sent in the last instants deserve their ack before being counted as lost.
    if (fleet.totals().connected > 0) await Promise.race([interrupted, fleet.drain(2000)]);
  } finally {
    clearTimeout(timer);
    process.removeListener('SIGINT', interrupt);
    await fleet.stop();
  }
  const t = fleet.totals();
  const secs = ((Date.now() - startedAt) / 1000).toFixed(1);
  io.out(
    `simulated ${t.boards} board${t.boards === 1 ? '' : 's'} (${t.everConnected} connected) for ${secs} s at ${args.rate} Hz, ${args.mode} mode: ` +
      `${t.framesSent} frames sent (${t.resent} resent), ${t.acked} acked, ${t.errors} errors, ${t.reconnects} reconnects`,
  );
  return t.everConnected > 0 ? 0 : 1;
}
