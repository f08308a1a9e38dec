/** `courtside ports`: serial ports with their USB identity and a board hint. */
import { HELP_OPTION, parse, runCommand } from '../../../cli/args.js';
import type { CommandIO } from '../../../cli/io.js';
import { extraFromEnv, listPorts } from '../ports.js';
import { printFailure } from './common.js';

export const PORTS_HELP = `Usage: courtside ports [--json]

Lists serial ports a board can be on, with USB vendor:product, serial number
and a hint (CP210x, CH340, FTDI, Espressif native USB). Works without udev
(containers): the facts then come from /sys/class/tty and /dev/serial/by-id.
COURTSIDE_EXTRA_PORTS (comma-separated paths, * allowed) adds virtual ports.

Options:
  --json       one JSON array on stdout
  -h, --help   this help
`;

export function portsCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, async () => {
    const { values } = parse(argv, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
    if (values.help) {
      io.stdout.write(PORTS_HELP);
      return 0;
    }
    let ports;
    try {
      ports = await listPorts({ extra: extraFromEnv(io.env) });
    } catch (err) {
      return printFailure(io, err);
    }
    if (values.json) {
      io.stdout.write(JSON.stringify(ports, null, 2) + '\n');
      return 0;
    }
    if (ports.length === 0) {
      io.stderr.write('no serial ports found (is the board plugged in with a data cable?)\n');
      return 0;
    }
    const rows = ports.map((p) => [p.path, p.vendor_id ? `${p.vendor_id}:${p.product_id ?? '????'}` : '-', p.serial_number ?? '-', p.hint ?? '-', p.by_id ?? p.location ?? '']);
    const head = ['PORT', 'USB ID', 'SERIAL', 'BOARD', 'BY-ID / LOCATION'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [head, ...rows]) io.stdout.write(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd() + '\n');
    return 0;
  });
}
