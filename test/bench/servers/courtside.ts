/**
 * Bench subject: the real gateway, with a throwaway SQLite file, so the
 * numbers include validation, durable storage, acks and the operator fan-out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway } from '../../../main/gateway/index.js';

const dir = mkdtempSync(join(tmpdir(), 'courtside-bench-'));
const gateway = await startGateway({
  host: '127.0.0.1',
  port: 0,
  db: join(dir, 'bench.sqlite'),
  // Keeps the gateway from writing a token or logs into the user's real data folder.
  dataDir: dir,
  operatorToken: 'bench-operator-token',
  logLevel: 'warn',
  // `--tls`: HTTPS and WSS with a certificate made in the throwaway folder (the TLS runs).
  tls: process.argv.includes('--tls'),
});
process.stdout.write(`${gateway.fingerprint ? `FINGERPRINT ${gateway.fingerprint}\n` : ''}READY ${gateway.port}\n`);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  try {
    await gateway.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }
};
process.stdin.on('end', () => void stop());
process.stdin.resume();
process.on('SIGTERM', () => void stop());
