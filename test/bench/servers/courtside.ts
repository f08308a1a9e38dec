/**
 * Bench subject: the real gateway, with a throwaway SQLite file: validation,
 * acks and the operator fan-out. With `--record N` a session recording boards
 * racket-1..N is started first, so every sample is also stored durably and
 * acked only once on disk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startGateway } from '../../../main/gateway/index.js';
import { tuneHeapForStreaming } from '../../../main/gateway/heap.js';

const { values } = parseArgs({ strict: true, options: { record: { type: 'string' }, tls: { type: 'boolean', default: false } } });
const record = values.record === undefined ? 0 : Number(values.record);

// As `courtside serve` does before it starts the gateway.
tuneHeapForStreaming();
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
  tls: values.tls,
  // No mDNS or UDP probe: a bench on the host network advertises nothing, and two runs do not contend for the probe port.
  discovery: { mdns: false, udpProbePort: false },
});
if (record > 0) {
  const api = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`http://127.0.0.1:${gateway.port}/api${path}`, {
      method: 'POST',
      headers: { authorization: 'Bearer bench-operator-token', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`POST ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const boards = Array.from({ length: record }, (_, i) => `racket-${i + 1}`);
  // A session takes at most 64 boards: more boards, more sessions.
  for (let i = 0; i < boards.length; i += 64) {
    const { session } = (await api('/sessions', { boards: boards.slice(i, i + 64), sample_rate_hz: 100 })) as { session: { session_id: string } };
    await api(`/sessions/${session.session_id}/start`, {});
  }
}
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
