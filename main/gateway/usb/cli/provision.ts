/** `courtside provision`: write a board's configuration (Wi-Fi, gateway, device id and token) to its NVS partition. */
import { NVS_CONFIG_PARTITION, type BoardConfig } from '../../../../firmware-protocol/nvs-config.js';
import { HELP_OPTION, intFlag, parse, runCommand, UsageError } from '../../../cli/args.js';
import { normalizeFingerprint } from '../../../../firmware-protocol/tls.js';

/** `--gw-sha256`: either spelling (with colons, as browsers show it, or hex), written as hex. */
export function fingerprintFlag(v: string): string {
  const hex = normalizeFingerprint(v);
  if (!hex) throw new UsageError(`--gw-sha256 must be a SHA-256 fingerprint (64 hex digits, colons allowed), got '${v}'`);
  return hex;
}
import { stopSignal, type CommandIO } from '../../../cli/io.js';
import { DEFAULT_FLASH_BAUD } from '../esp.js';
import { provisionBoard } from '../flash.js';
import { attemptsFlag, baudFlag, describeBoard, openTokenStore, printFailure, progressBar, STORE_FLAGS } from './common.js';

export const PROVISION_HELP = `Usage: courtside provision --port PORT --ssid SSID --device-id ID [--host HOST] [options]

Writes the board configuration to the board's NVS partition (namespace
'courtside'; its place is read from the partition table at 0x8000), then
resets the board. The firmware must already be on the board.

Options:
  --port PORT             serial port (see 'courtside ports')
  --ssid SSID             Wi-Fi network
  --password PASS         Wi-Fi password (omit for an open network)
  --host HOST             gateway host name or address (omit: the board finds it by mDNS)
  --gw-port N             gateway port (default: the firmware's, 8765)
  --path PATH             board endpoint path (default: the firmware's, /ws/esp32/)
  --gw-sha256 F           SHA-256 of the gateway's TLS certificate (serve --tls prints it):
                          the board connects with wss:// and accepts only that certificate
  --device-id ID          the board's device code, e.g. racket-07
  --token TOKEN           device token to write (for --device-auth token)
  --mint-token            mint a device token in the gateway's store and write it
  --db SPEC, --data-dir DIR   the gateway's store, for --mint-token (default as courtside serve)
  --room ID               room the board joins
  --sample-hz N           IMU sample rate
  --partition LABEL       NVS partition label (default ${NVS_CONFIG_PARTITION})
  --baud N                baud rate (default ${DEFAULT_FLASH_BAUD})
  --connect-attempts N    reset-and-sync attempts (default 7)
  --json                  print the result as JSON
  -h, --help              this help
`;

export function provisionCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, async () => {
    const { values } = parse(argv, {
      port: { type: 'string', short: 'p' },
      ssid: { type: 'string' },
      password: { type: 'string' },
      host: { type: 'string' },
      'gw-port': { type: 'string' },
      path: { type: 'string' },
      'gw-sha256': { type: 'string' },
      'device-id': { type: 'string' },
      token: { type: 'string' },
      'mint-token': { type: 'boolean' },
      ...STORE_FLAGS,
      room: { type: 'string' },
      'sample-hz': { type: 'string' },
      partition: { type: 'string' },
      baud: { type: 'string', short: 'b' },
      'connect-attempts': { type: 'string' },
      json: { type: 'boolean' },
      ...HELP_OPTION,
    });
    if (values.help) {
      io.stdout.write(PROVISION_HELP);
      return 0;
    }
    for (const f of ['port', 'ssid', 'device-id'] as const) if (!values[f]) throw new UsageError(`--${f} is required`);
    if (values.token && values['mint-token']) throw new UsageError('give --token or --mint-token, not both');
    const config: BoardConfig = { wifi_ssid: values.ssid!, device_id: values['device-id']! };
    if (values.host) config.gw_host = values.host;
    if (values.password !== undefined) config.wifi_pass = values.password;
    const gwPort = intFlag('gw-port', values['gw-port'], 1, 65535);
    if (gwPort !== undefined) config.gw_port = gwPort;
    if (values.path) config.gw_path = values.path;
    if (values['gw-sha256'] !== undefined) config.gw_sha256 = fingerprintFlag(values['gw-sha256']);
    if (values.token) config.device_token = values.token;
    if (values.room) config.room_id = values.room;
    const hz = intFlag('sample-hz', values['sample-hz'], 1, 4000);
    if (hz !== undefined) config.sample_hz = hz;
    const baud = baudFlag(values.baud);
    const connectAttempts = attemptsFlag(values['connect-attempts']);

    const cancel = stopSignal(io);
    const store = values['mint-token'] ? await openTokenStore(values, io) : null;
    let minted = false;
    try {
      if (store) {
        config.device_token = await store.tokens.mint(config.device_id, `courtside provision ${values.port}`);
        minted = true;
      }
      io.stderr.write(`Connecting to ${values.port}...\n`);
      const r = await provisionBoard(values.port!, config, {
        baud,
        connectAttempts,
        partition: values.partition,
        signal: cancel.signal,
        onInfo: (info) => io.stderr.write(`Board: ${describeBoard(info)}\n`),
        onProgress: values.json ? undefined : progressBar(io),
      });
      const where = `partition '${r.partition.label}' at 0x${r.partition.offset.toString(16)} (${r.partition.size / 1024} KB)`;
      if (values.json) {
        io.stdout.write(JSON.stringify({ ok: true, port: values.port, device_id: config.device_id, token_minted: minted, partition: r.partition, mac: r.info.mac, reset: r.reset }, null, 2) + '\n');
      } else {
        io.stdout.write(`Configured ${r.info.mac} as ${config.device_id}${minted ? ' with a new device token' : ''}: ${where}; verified (MD5).\n`);
        io.stdout.write(r.reset ? 'Board reset: it now joins the network.\n' : 'Press EN (RST) on the board to start it with the new configuration.\n');
      }
      return 0;
    } catch (err) {
      if (minted && store) await store.tokens.revoke(config.device_id).catch(() => {});
      const code = printFailure(io, err);
      return cancel.stoppedBy() ? 130 : code;
    } finally {
      cancel.dispose();
      await store?.store.close();
    }
  });
}
