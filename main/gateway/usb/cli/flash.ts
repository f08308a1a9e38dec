/** `courtside flash`: write firmware to a board over USB, verified by MD5. */
import { HELP_OPTION, parse, runCommand, UsageError } from '../../../cli/args.js';
import { stopSignal, type CommandIO } from '../../../cli/io.js';
import { DEFAULT_FLASH_BAUD } from '../esp.js';
import { flashBoard } from '../flash.js';
import { resolveFlashInputs } from '../images.js';
import { attemptsFlag, baudFlag, describeBoard, kb, printFailure, progressBar } from './common.js';

export const FLASH_HELP = `Usage: courtside flash --port PORT [options] <what>

<what> is one of:
  firmware.bin                a merged image (esptool merge_bin), written at 0x0
  build/                      an ESP-IDF build folder (its flasher_args.json)
  flash_args.txt              a file of '<address> <file>' lines
  0x1000 a.bin 0x8000 b.bin   address/file pairs

Chip, MAC and flash size are detected first; images for another chip or
larger than the flash are refused before anything is written. Images go
compressed, each is checked by MD5, then the board is reset into it.

Options:
  --port PORT             serial port (see 'courtside ports')
  --baud N                baud rate after connecting (default ${DEFAULT_FLASH_BAUD})
  --erase                 erase the whole flash first
  --no-stub               talk to the ROM loader only (slower; no --erase)
  --connect-attempts N    reset-and-sync attempts (default 7)
  --json                  print the result as JSON
  -h, --help              this help
Ctrl-C cancels (the flash is then incomplete).
`;

export function flashCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, async () => {
    const { values, positionals } = parse(
      argv,
      {
        port: { type: 'string', short: 'p' },
        baud: { type: 'string', short: 'b' },
        erase: { type: 'boolean' },
        'no-stub': { type: 'boolean' },
        'connect-attempts': { type: 'string' },
        json: { type: 'boolean' },
        ...HELP_OPTION,
      },
      true,
    );
    if (values.help) {
      io.stdout.write(FLASH_HELP);
      return 0;
    }
    if (!values.port) throw new UsageError('--port is required (see courtside ports)');
    if (positionals.length === 0) throw new UsageError('nothing to flash: give a .bin, a build folder or address/file pairs');
    if (values.erase && values['no-stub']) throw new UsageError('--erase needs the flasher stub; drop --no-stub');
    const baud = baudFlag(values.baud);
    const connectAttempts = attemptsFlag(values['connect-attempts']);
    const cancel = stopSignal(io);
    try {
      const set = resolveFlashInputs(positionals, io.cwd);
      io.stderr.write(`Connecting to ${values.port}...\n`);
      const r = await flashBoard(values.port, set, {
        baud,
        connectAttempts,
        erase: values.erase,
        noStub: values['no-stub'],
        signal: cancel.signal,
        onInfo: (info) => io.stderr.write(`Board: ${describeBoard(info)}\n${values.erase ? 'Erasing the whole flash, then writing' : 'Writing'} ${set.images.map((i) => `${i.name}@0x${i.address.toString(16)}`).join(', ')}\n`),
        onProgress: values.json ? undefined : progressBar(io),
      });
      if (values.json) {
        io.stdout.write(JSON.stringify({ ok: true, port: values.port, info: r.info, bytes: r.bytes, seconds: r.seconds, reset: r.reset, images: r.images }, null, 2) + '\n');
      } else {
        io.stdout.write(`Wrote ${kb(r.bytes)} in ${r.seconds.toFixed(1)} s to ${r.info.chip} ${r.info.mac}; verified (MD5).\n`);
        io.stdout.write(r.reset ? 'Board reset: it is running the new firmware.\n' : 'This port cannot reset the board: press EN (RST) to start the new firmware.\n');
      }
      return 0;
    } catch (err) {
      const code = printFailure(io, err);
      return cancel.stoppedBy() ? 130 : code;
    } finally {
      cancel.dispose();
    }
  });
}
