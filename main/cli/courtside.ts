/**
 * The `courtside` command's dispatcher: argv and an IO in, an exit code out,
 * so tests run it in-process. Subcommands load lazily so `--help` and small
 * commands start fast.
 */
import { VERSION } from '../gateway/version.js';
import { closest } from './args.js';
import type { CommandIO } from './io.js';

export const HELP = `Usage: courtside <command> [options]

Commands:
  serve       run the gateway (rooms, signaling, boards, players, operator UI)
  simulate    run simulated ESP32 boards against a gateway
  analyze     stroke analysis of a recording (CSV)
  export      write a recorded session as a zip of CSV + JSON
  import      copy a room server's MySQL database into Courtside's
  sessions    list the recorded sessions, or show one (--json)
  discover    list Courtside gateways and ESP32 boards on the LAN (mDNS)
  nvs         generate an ESP-IDF NVS partition image from a CSV
  ports       list serial ports (USB ids, board hints)
  flash       write firmware to a board over USB
  provision   write a board's configuration (Wi-Fi, gateway, id, token) over USB
  monitor     a board's serial console
  bulk        flash and provision boards one after another
  improv      Improv Wi-Fi over serial (state, info, scan, wifi)
  version     print the version

Run 'courtside <command> --help' for a command's options.
`;

/** Every subcommand: the arguments after its name, the IO; resolves to the exit code. */
export type Command = (argv: string[], io: CommandIO) => Promise<number>;

export const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.js')).serveCommand,
  simulate: async () => (await import('../simulator/cli.js')).simulateCommand,
  analyze: async () => (await import('../gateway/sessions/analysis/cli.js')).analyzeCommand,
  export: async () => (await import('./export.js')).exportCommand,
  import: async () => (await import('./import.js')).importCommand,
  sessions: async () => (await import('./sessions.js')).sessionsCommand,
  discover: async () => (await import('../gateway/discovery/cli.js')).discoverCommand,
  nvs: async () => (await import('../gateway/usb/nvs/cli.js')).nvsCommand,
  ports: async () => (await import('../gateway/usb/cli/ports.js')).portsCommand,
  flash: async () => (await import('../gateway/usb/cli/flash.js')).flashCommand,
  provision: async () => (await import('../gateway/usb/cli/provision.js')).provisionCommand,
  monitor: async () => (await import('../gateway/usb/cli/monitor.js')).monitorCommand,
  bulk: async () => (await import('../gateway/usb/cli/bulk.js')).bulkCommand,
  improv: async () => (await import('../gateway/usb/cli/improv.js')).improvCommand,
};

export async function courtside(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.stdout.write(HELP);
    return name === undefined ? 2 : 0;
  }
  if (name === 'version' || name === '--version' || name === '-v') {
    io.stdout.write(VERSION + '\n');
    return 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    const near = closest(name, [...Object.keys(COMMANDS), 'version']);
    io.stderr.write(`courtside: unknown command '${name}' ${near ? `(did you mean ${near}?)` : '(see courtside --help)'}\n`);
    return 2;
  }
  try {
    return await (await load())(rest, { ...io, command: name });
  } catch (err) {
    io.stderr.write(`courtside ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
