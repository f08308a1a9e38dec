/**
 * A gateway process that serves the UI the tests built (`courtside serve` serves the packaged
 * one): the same startGateway as serve, joined to a fleet. Argument: a JSON object with db,
 * redis, dataDir, uiDir and operatorToken. Prints "listening on 127.0.0.1:<port>"; SIGTERM closes it.
 */
import { startGateway } from '../../main/gateway/index.js';

const o = JSON.parse(process.argv[2] ?? '{}') as { db: string; redis: string; dataDir: string; uiDir: string; operatorToken: string };
const gw = await startGateway({ host: '127.0.0.1', port: 0, logLevel: 'warn', statusLogIntervalMs: 0, env: { COURTSIDE_DISCOVERY: 'off' }, ...o });
process.stdout.write(`listening on 127.0.0.1:${gw.port}\n`);
process.once('SIGTERM', () => void gw.close().then(() => process.exit(0)));
