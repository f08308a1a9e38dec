#!/usr/bin/env node
/** The `courtside` command. Subcommands load lazily so `--help` and small commands start fast. */
import { VERSION } from './gateway/version.js';

const HELP = `Usage: courtside <command> [options]

Commands:
  serve       run the gateway (rooms, signaling, boards, players, operator UI)
  simulate    run simulated ESP32 boards against a gateway
  analyze     stroke analysis of a recording (CSV)
  discover    list Courtside gateways and ESP32 boards on the LAN (mDNS)
  nvs         generate an ESP-IDF NVS partition image from a CSV
  version     print the version

Run 'courtside <command> --help' for a command's options.
`;

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./cli/serve.js')).serveCommand,
  simulate: async () => (await import('./simulator/cli.js')).simulateCommand,
  analyze: async () => (await import('./gateway/sessions/analysis/cli.js')).analyzeCommand,
  discover: async () => (await import('./gateway/discovery/cli.js')).discoverCommand,
  nvs: async () => (await import('./gateway/usb/nvs/cli.js')).nvsCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(HELP);
    return name === undefined ? 2 : 0;
  }
  if (name === 'version' || name === '--version' || name === '-v') {
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`courtside: unknown command '${name}' (see courtside --help)\n`);
    return 2;
  }
  return (await load())(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`courtside: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
