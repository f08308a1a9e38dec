/** `courtside monitor`: a board's console, surviving resets that re-enumerate the USB device. */
import { choiceFlag, HELP_OPTION, parse, runCommand, UsageError } from '../../../cli/args.js';
import { untilStopped, type CommandIO } from '../../../cli/io.js';
import { SerialMonitor } from '../monitor.js';
import { baudFlag, printFailure } from './common.js';

export const MONITOR_HELP = `Usage: courtside monitor --port PORT [options]

Prints the board's log lines until Ctrl-C. When the board disappears (reset
of a native-USB chip, unplugged) it waits for it and carries on.

Options:
  --port PORT           serial port (see 'courtside ports')
  --baud N              console baud rate (default 115200)
  --reset MODE          reset the board first: run (EN) or bootloader (EN with BOOT)
  --plain               whole lines without colour codes (for logs and pipes)
  -h, --help            this help
`;

export function monitorCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, async () => {
    const { values } = parse(argv, {
      port: { type: 'string', short: 'p' },
      baud: { type: 'string', short: 'b' },
      reset: { type: 'string' },
      plain: { type: 'boolean' },
      ...HELP_OPTION,
    });
    if (values.help) {
      io.stdout.write(MONITOR_HELP);
      return 0;
    }
    if (!values.port) throw new UsageError('--port is required (see courtside ports)');
    const baud = baudFlag(values.baud) ?? 115200;
    const reset = choiceFlag('reset', values.reset, ['run', 'bootloader'] as const);

    const mon = new SerialMonitor(values.port, {
      baud,
      // Default: the bytes as sent (colours kept); --plain: lines without colour codes.
      onData: values.plain ? undefined : (chunk) => io.stdout.write(chunk.toString('utf8')),
      onLine: values.plain ? (l) => io.stdout.write(l.text + '\n') : undefined,
      onStatus: (s, path) => {
        if (s === 'lost') io.stderr.write(`-- ${path} is gone; waiting for the board to come back (Ctrl-C to quit) --\n`);
        if (s === 'reconnected') io.stderr.write(`-- connected again on ${path} --\n`);
      },
    });
    try {
      await mon.start();
    } catch (err) {
      return printFailure(io, err);
    }
    io.stderr.write(`-- monitoring ${values.port} at ${baud} baud; Ctrl-C to quit --\n`);
    if (reset) {
      try {
        await mon.reset(reset);
      } catch (err) {
        printFailure(io, err);
      }
    }
    // Waiting for a vanished board uses unref'd timers: this keeps the process alive until Ctrl-C.
    const keepAlive = setInterval(() => {}, 1 << 30);
    await untilStopped(io).stopped;
    clearInterval(keepAlive);
    await mon.stop();
    return 0;
  });
}
