/** `courtside bulk`: provision a box of boards, plugged in one after another. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { validIdTemplate, type BoardConfigTemplate } from '../../../../firmware-protocol/nvs-config.js';
import { HELP_OPTION, intFlag, parse, runCommand, UsageError } from '../../../cli/args.js';
import { untilStopped, type CommandIO } from '../../../cli/io.js';
import { BulkQueue, bulkCsv, type BulkRow } from '../bulk.js';
import { resolveFlashInputs } from '../images.js';
import { extraFromEnv, listPorts } from '../ports.js';
import { attemptsFlag, baudFlag, describeBoard, openTokenStore, printFailure, STORE_FLAGS } from './common.js';
import { fingerprintFlag } from './provision.js';

export const BULK_HELP = `Usage: courtside bulk --firmware <what> --id-template racket-{n} --ssid SSID [--host HOST] [options]

Waits for boards and gives each one, as it is plugged in: the firmware, then
its configuration with the next device id ({n}, or {n:3} for 007) and a fresh
device token registered in the gateway's store (so --device-auth token admits
it). A board that fails is reported and the queue goes on. A CSV report (MAC,
chip, device id, result) is written as boards finish.

Options:
  --firmware WHAT         a .bin, an ESP-IDF build folder or an address file (repeatable)
  --id-template T         device ids, e.g. racket-{n}
  --start N               first n (default 1; ids that already have a token are skipped)
  --ssid SSID, --password PASS, --host HOST, --gw-port N, --path PATH, --gw-sha256 F, --room ID, --sample-hz N
                          the configuration every board gets (no --host: boards find the gateway by mDNS)
  --port PORT             watch only this port (repeatable; default: every serial port)
  --count N               stop after N boards (default: run until Ctrl-C)
  --report FILE           CSV report (default courtside-bulk-<time>.csv)
  --db SPEC, --data-dir DIR   the gateway's store (default as courtside serve)
  --baud N, --erase, --connect-attempts N
  -h, --help              this help
`;

export function bulkCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, async () => {
    const { values } = parse(argv, {
      firmware: { type: 'string', multiple: true },
      'id-template': { type: 'string' },
      start: { type: 'string' },
      ssid: { type: 'string' },
      password: { type: 'string' },
      host: { type: 'string' },
      'gw-port': { type: 'string' },
      path: { type: 'string' },
      'gw-sha256': { type: 'string' },
      room: { type: 'string' },
      'sample-hz': { type: 'string' },
      port: { type: 'string', multiple: true },
      count: { type: 'string' },
      report: { type: 'string' },
      ...STORE_FLAGS,
      baud: { type: 'string' },
      erase: { type: 'boolean' },
      'connect-attempts': { type: 'string' },
      ...HELP_OPTION,
    });
    if (values.help) {
      io.stdout.write(BULK_HELP);
      return 0;
    }
    if (!values.firmware?.length) throw new UsageError('--firmware is required');
    for (const f of ['id-template', 'ssid'] as const) if (!values[f]) throw new UsageError(`--${f} is required`);
    if (!validIdTemplate(values['id-template']!)) throw new UsageError('--id-template must contain {n} and make a valid device id, e.g. racket-{n}');
    const start = intFlag('start', values.start, 0, 999999);
    const count = intFlag('count', values.count, 1, 100000);
    const config: BoardConfigTemplate = { wifi_ssid: values.ssid! };
    if (values.host) config.gw_host = values.host;
    if (values.password !== undefined) config.wifi_pass = values.password;
    const gwPort = intFlag('gw-port', values['gw-port'], 1, 65535);
    if (gwPort !== undefined) config.gw_port = gwPort;
    if (values.path) config.gw_path = values.path;
    if (values['gw-sha256'] !== undefined) config.gw_sha256 = fingerprintFlag(values['gw-sha256']);
    if (values.room) config.room_id = values.room;
    const hz = intFlag('sample-hz', values['sample-hz'], 1, 4000);
    if (hz !== undefined) config.sample_hz = hz;
    const baud = baudFlag(values.baud);
    const connectAttempts = attemptsFlag(values['connect-attempts']);
    const report = values.report ?? `courtside-bulk-${new Date().toISOString().replace(/[:.]/g, '-')}.csv`;
    const reportPath = resolve(io.cwd, report);

    let firmware;
    try {
      firmware = resolveFlashInputs(values.firmware, io.cwd);
    } catch (err) {
      return printFailure(io, err);
    }
    const { store, tokens } = await openTokenStore(values, io);
    const rows: BulkRow[] = [];
    let finish: () => void = () => {};
    const finished = new Promise<void>((r) => (finish = r));
    const queue = new BulkQueue({
      firmware,
      idTemplate: values['id-template']!,
      start,
      config,
      ports: values.port,
      erase: values.erase,
      connect: { baud, connectAttempts },
      listPorts: () => listPorts({ extra: extraFromEnv(io.env) }),
      mintToken: (id) => tokens.mint(id, 'courtside bulk'),
      revokeToken: (id) => tokens.revoke(id),
      takenIds: () => tokens.taken(),
      onStart: (port) => io.stderr.write(`${port}: board found, connecting...\n`),
      onInfo: (port, info) => io.stderr.write(`${port}: ${describeBoard(info)}\n`),
      onBoard: (row) => {
        rows.push(row);
        writeFileSync(reportPath, bulkCsv(rows));
        io.stdout.write(row.result === 'ok' ? `OK      ${row.port}  ${row.mac}  ${row.device_id}\n` : `FAILED  ${row.port}  ${row.mac ?? '-'}  ${row.error}\n`);
        if (count !== undefined && rows.length >= count) finish();
      },
    });
    writeFileSync(reportPath, bulkCsv(rows));
    const keepAlive = setInterval(() => {}, 1 << 30);
    const stop = untilStopped(io);
    void stop.stopped.then(() => finish());
    io.stderr.write(`Waiting for boards${values.port ? ` on ${values.port.join(', ')}` : ''}; next id ${queue.status().next_id}. Ctrl-C to stop.\n`);
    queue.start();
    await finished;
    stop.dispose();
    await queue.stop();
    clearInterval(keepAlive);
    await store.close();
    const ok = rows.filter((r) => r.result === 'ok').length;
    io.stdout.write(`${ok} board(s) provisioned, ${rows.length - ok} failed; report: ${report}\n`);
    return rows.length - ok > 0 ? 1 : 0;
  });
}
