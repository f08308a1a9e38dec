/** `courtside improv`: Improv Wi-Fi over serial, for boards whose firmware speaks it. */
import { HELP_OPTION, parse, runCommand, UsageError } from '../../../cli/args.js';
import type { CommandIO } from '../../../cli/io.js';
import { ImprovClient } from '../improv.js';
import { baudFlag, printFailure } from './common.js';

export const IMPROV_HELP = `Usage: courtside improv --port PORT <state|info|scan|wifi> [options]

  state     the board's provisioning state (authorized, provisioned + its URL)
  info      firmware name and version, chip, device name
  scan      Wi-Fi networks the board sees
  wifi      send --ssid and --password; waits until the board has joined

Options:
  --port PORT          serial port (the firmware must be running)
  --ssid SSID          network (wifi)
  --password PASS      password (wifi; omit for an open network)
  --baud N             console baud rate (default 115200)
  --json               print the answer as JSON
  -h, --help           this help
`;

export function improvCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, async () => {
    const { values, positionals } = parse(
      argv,
      {
        port: { type: 'string', short: 'p' },
        ssid: { type: 'string' },
        password: { type: 'string' },
        baud: { type: 'string', short: 'b' },
        json: { type: 'boolean' },
        ...HELP_OPTION,
      },
      true,
    );
    if (values.help) {
      io.stdout.write(IMPROV_HELP);
      return 0;
    }
    if (!values.port) throw new UsageError('--port is required (see courtside ports)');
    const action = positionals[0];
    if (positionals.length !== 1 || !['state', 'info', 'scan', 'wifi'].includes(action!)) throw new UsageError('give one of state, info, scan, wifi');
    if (action === 'wifi' && !values.ssid) throw new UsageError('wifi needs --ssid');
    const baud = baudFlag(values.baud);
    let client: ImprovClient | null = null;
    try {
      client = await ImprovClient.open(values.port, { baud });
      const state = await client.currentState();
      let result: Record<string, unknown>;
      if (action === 'state') result = { ...state };
      else if (action === 'info') result = { ...(await client.deviceInfo()) };
      else if (action === 'scan') result = { networks: await client.scan() };
      else result = { state: 'provisioned', ...(await client.sendWifi(values.ssid!, values.password ?? '')) };
      if (values.json) io.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else if (action === 'scan') {
        for (const n of result.networks as { ssid: string; rssi: number; secured: boolean }[]) io.stdout.write(`${String(n.rssi).padStart(4)} dBm  ${n.secured ? 'secured' : 'open   '}  ${n.ssid}\n`);
      } else for (const [k, v] of Object.entries(result)) io.stdout.write(`${k}: ${v ?? '-'}\n`);
      return 0;
    } catch (err) {
      return printFailure(io, err);
    } finally {
      await client?.close();
    }
  });
}
