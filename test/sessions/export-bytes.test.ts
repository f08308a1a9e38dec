/**
 * samples.csv written as bytes (sample-csv.ts) is the text the export wrote
 * before (test/sessions/fixtures/export-reference.ts, the previous code kept
 * unchanged): row by row for awkward numbers, device ids and rates, and the
 * whole zip of a stored fixture byte for byte, read back by Debian's `unzip`
 * and by Python's zipfile, neither of them the code that wrote it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openSqliteStore } from '../../main/gateway/store/sqlite.js';
import { packSamples } from '../../main/gateway/sessions/ingest.js';
import { exportSession, round3, round5 } from '../../main/gateway/sessions/export.js';
import { maxRowBytes, writeChunkRows, writeRounded } from '../../main/gateway/sessions/sample-csv.js';
import { exportSession as referenceExport } from './fixtures/export-reference.js';
import { createImuSource } from '../../main/simulator/swing.js';
import { sampleRow } from '../../main/simulator/frames.js';
import type { SampleChunk } from '../../main/gateway/store/types.js';

const run = promisify(execFile);

/** A row as the previous export built it: template strings and String(). */
function referenceRows(device: string, startMs: number, rateHz: number, f: Float32Array, count: number): string {
  const dev = /[",\n\r]/.test(device) ? `"${device.replace(/"/g, '""')}"` : device;
  const step = rateHz > 0 ? 1000 / rateHz : 0;
  const r5 = (x: number) => String(round5(x));
  const r3 = (x: number) => String(round3(x));
  let out = '';
  for (let i = 0; i < count; i++) {
    const o = i * 6;
    out += `${dev},${r3(startMs + i * step)},${r5(f[o]!)},${r5(f[o + 1]!)},${r5(f[o + 2]!)},${r3(f[o + 3]!)},${r3(f[o + 4]!)},${r3(f[o + 5]!)}\n`;
  }
  return out;
}

function rows(device: string, startMs: number, rateHz: number, f: Float32Array, count: number): string {
  const dev = Buffer.from(/[",\n\r]/.test(device) ? `"${device.replace(/"/g, '""')}"` : device);
  const buf = Buffer.alloc(count * maxRowBytes(dev.length));
  return buf.toString('utf8', 0, writeChunkRows(buf, 0, dev, startMs, rateHz, f, count));
}

const SPECIAL = [0, -0, NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45, -1e-45, 1.17e-38, 5e-6, -5e-6, 4.99e-6, 0.0005, -0.0005, 0.00049, 21474.83647, 21474.83648,
  -21474.83648, 2147483.647, 2147483.648, -2147483.6485, 16, -16, 2000, -2000, 1e9, 4.5e10, 4.6e10, 1e15, 123.456789, 0.1, 0.2, 0.3];

test('rows as bytes = the previous String() rows: random float32 of every magnitude, special values, odd rates and ids', () => {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const devices = ['racket-1', 'a,b', 'say "hi"', 'ünïcode-板', ''];
  const rates = [200, 1000, 3, 7, 0, 1000 / 7, 12.5];
  let n = 0;
  for (let k = 0; k < 800; k++) {
    const count = 1 + (k % 250);
    const f = new Float32Array(count * 6);
    for (let i = 0; i < f.length; i++) {
      f[i] = k % 10 === 0 ? SPECIAL[(i + k) % SPECIAL.length]! : (rand() - 0.5) * 10 ** (rand() * 14 - 7);
    }
    const startMs = [1735689600000, 1735689600000.4567, 0, -1234.5, 1e13 + 0.3, 4.4e12][k % 6]!;
    const dev = devices[k % devices.length]!;
    const rate = rates[k % rates.length]!;
    assert.equal(rows(dev, startMs, rate, f, count), referenceRows(dev, startMs, rate, f, count), `chunk ${k}`);
    n += count;
  }
  assert.ok(n > 80_000, `${n} rows`);
  // The general path (times, and values past int32) against String() directly.
  const buf = Buffer.alloc(64);
  for (const x of [...SPECIAL, 1.7e12 + 0.0005, 1.7e12 + 0.0015, 4503599627.370495, 4503599627370.495, 9e15]) {
    for (const d of [3, 5]) assert.equal(buf.toString('latin1', 0, writeRounded(buf, 0, x, d)), String(Math.round(x * 10 ** d) / 10 ** d), `${x} to ${d}`);
  }
});

test('the export zip of a stored fixture is byte for byte the previous one, and unzip and zipfile read it', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'courtside-export-bytes-'));
  const store = await openSqliteStore(join(dir, 'db.sqlite'));
  try {
    const t0 = Date.UTC(2025, 0, 1);
    const boards = ['racket-1', 'racket,2', 'bord "3"'];
    await store.createSession({
      sessionId: 's-bytes', state: 'uploading', boards, playerId: 'p1', court: '2', roomId: null, notes: 'bytes', sampleRateHz: 200,
      createdAt: new Date(t0), startedAt: new Date(t0), stoppedAt: new Date(t0 + 60_000), completedAt: null, failureReason: null, summary: null,
    });
    const chunks: SampleChunk[] = [];
    for (const [b, deviceId] of boards.entries()) {
      const src = createImuSource({ rateHz: 200, seed: b + 1, strokesPerMinute: 40 });
      // 650 chunks a board: more than three of the export's pages, the last one partial.
      for (let seq = 0; seq < 650; seq++) {
        const count = seq % 97 === 3 ? 37 : 100;
        const rate = b === 2 ? 3 : 200;
        chunks.push({ sessionId: 's-bytes', deviceId, seq, startMs: t0 + seq * 500 + (b === 1 ? 0.25 : 0), rateHz: rate, count, data: packSamples(Array.from({ length: count }, () => sampleRow(src.next()))), receivedAt: new Date(t0) });
      }
    }
    await store.insertChunks(chunks);
    await store.saveStrokes('s-bytes', [{ sessionId: 's-bytes', deviceId: 'racket-1', idx: 0, tMs: t0 + 1234.5, peakDps: 1500.25, speedKmh: 120.5, peakG: 9.75, saturated: false, type: 'smash', confidence: 0.875 }]);
    await store.updateSession('s-bytes', { state: 'complete', completedAt: new Date(t0 + 61_000), summary: { count: 1 } });

    const write = async (f: typeof exportSession, file: string) => {
      await f(store, 's-bytes', createWriteStream(file));
      return readFileSync(file);
    };
    const now = await write(exportSession, join(dir, 'now.zip'));
    const before = await write(referenceExport, join(dir, 'before.zip'));
    assert.ok(now.length > 1_000_000);
    assert.ok(now.equals(before), `zip differs: ${now.length} vs ${before.length} bytes`);

    await run('unzip', ['-tq', join(dir, 'now.zip')]);
    const { stdout: csv } = await run('unzip', ['-p', join(dir, 'now.zip'), 'samples.csv'], { maxBuffer: 256 * 1024 * 1024 });
    const lines = csv.split('\n');
    assert.equal(lines[0], 'device,time,ax,ay,az,gx,gy,gz');
    assert.equal(lines.length - 2, chunks.reduce((n, c) => n + c.count, 0));
    const py = await run('python3', ['-c', [
      'import sys, zipfile, hashlib',
      'z = zipfile.ZipFile(sys.argv[1])',
      'assert z.testzip() is None',
      'print(hashlib.sha256(z.read("samples.csv")).hexdigest(), len(z.read("samples.csv").split(b"\\n")))',
    ].join('\n'), join(dir, 'now.zip')]);
    const { createHash } = await import('node:crypto');
    assert.equal(py.stdout.trim(), `${createHash('sha256').update(csv).digest('hex')} ${lines.length}`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
