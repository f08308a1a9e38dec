/**
 * What one idle board connection keeps alive in the gateway: `courtside
 * serve` takes a V8 heap snapshot before any board and another with N idle
 * boards connected (heartbeats only); the difference, per constructor and
 * divided by N, is what each connection retains. The snapshots are read here
 * with their documented layout (snapshot.meta), no tool of the gateway's own.
 *
 *   node --import tsx test/bench/idle-heap.ts [--boards 2000] [--top 40] [--target courtside|bare] [--keep DIR]
 *
 * `--target bare`: the bare `ws` server of idle.ts instead, the floor to compare with.
 *
 * One JSON document on stdout (objects and bytes per board, largest first);
 * exit 1 if the run failed, 2 on a bad flag.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ChildSet, flagFailer, here, root, stopChild, waitForOutput } from './proc.js';

const fail: (msg: string) => never = flagFailer('idle-heap');
let v;
try {
  ({ values: v } = parseArgs({ strict: true, options: { boards: { type: 'string', default: '2000' }, top: { type: 'string', default: '40' }, target: { type: 'string', default: 'courtside' }, keep: { type: 'string' } } }));
} catch (e) {
  fail((e instanceof Error ? e.message : String(e)).split(/\.\s|\n/)[0]!);
}
const boards = Number(v.boards);
const top = Number(v.top);
if (!Number.isInteger(boards) || boards < 1 || boards > 20_000) fail(`--boards must be an integer from 1 to 20000, got '${v.boards}'`);
if (!Number.isInteger(top) || top < 1) fail(`--top must be a positive integer, got '${v.top}'`);
const target = v.target;
if (target !== 'courtside' && target !== 'bare') fail(`--target takes courtside or bare, got '${target}'`);

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/**
 * Count and self size by kind: plain objects by their property names, closures
 * by their name and the variables of the scope they keep, other objects by
 * constructor, strings and numbers by type only (their "name" is their content).
 */
function census(file: string): Map<string, { n: number; bytes: number }> {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const width = f.length;
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const iEdges = f.indexOf('edge_count');
  const types = s.snapshot.meta.node_types[0];
  const ef = s.snapshot.meta.edge_fields;
  const eWidth = ef.length;
  const eType = ef.indexOf('type');
  const eName = ef.indexOf('name_or_index');
  const eTo = ef.indexOf('to_node');
  const edgeTypes = s.snapshot.meta.edge_types[0];
  const firstEdge = new Uint32Array(s.nodes.length / width + 1);
  for (let i = 0, e = 0; i < s.nodes.length; i += width) {
    firstEdge[i / width] = e;
    e += s.nodes[i + iEdges]! * eWidth;
  }
  const edgeNames = (node: number, kind: string): string[] => {
    const out: string[] = [];
    const n = s.nodes[node * width + iEdges]!;
    for (let k = 0, e = firstEdge[node]!; k < n; k++, e += eWidth) {
      if (edgeTypes[s.edges[e + eType]!] === kind) out.push(s.strings[s.edges[e + eName]!]!);
    }
    return out;
  };
  const edgeTo = (node: number, kind: string, name: string): number | null => {
    const n = s.nodes[node * width + iEdges]!;
    for (let k = 0, e = firstEdge[node]!; k < n; k++, e += eWidth) {
      if (edgeTypes[s.edges[e + eType]!] === kind && s.strings[s.edges[e + eName]!] === name) return s.edges[e + eTo]! / width;
    }
    return null;
  };
  const out = new Map<string, { n: number; bytes: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]!]!;
    let name = type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number' || type === 'code' ? '' : s.strings[s.nodes[i + iName]!]!;
    if (type === 'object' && name === 'Object') name = `Object{${edgeNames(i / width, 'property').slice(0, 8).join(',')}}`;
    if (type === 'closure') {
      const ctx = edgeTo(i / width, 'internal', 'context');
      name = `${name || '(anonymous)'} [${ctx === null ? '' : edgeNames(ctx, 'context').slice(0, 6).join(',')}]`;
    }
    const key = `${type}:${name.slice(0, 100)}`;
    const e = out.get(key) ?? { n: 0, bytes: 0 };
    e.n++;
    e.bytes += s.nodes[i + iSize]!;
    out.set(key, e);
  }
  return out;
}

const children = new ChildSet();
const dir = mkdtempSync(join(tmpdir(), 'courtside-idle-heap-'));
const snapDir = join(dir, 'snap');
mkdirSync(snapDir);

async function snapshot(pid: number, count: number): Promise<string> {
  process.kill(pid, 'SIGUSR2');
  // The file appears when writing starts: wait until its size stops changing.
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const files = readdirSync(snapDir).filter((n) => n.endsWith('.heapsnapshot'));
    if (files.length < count) continue;
    const file = join(snapDir, files.sort()[count - 1]!);
    const a = readFileSync(file).length;
    await new Promise((r) => setTimeout(r, 1000));
    if (a > 0 && readFileSync(file).length === a) {
      try { JSON.parse(readFileSync(file, 'utf8')); return file; } catch { /* still being written */ }
    }
  }
  throw new Error('no heap snapshot within 5 minutes');
}

async function main(): Promise<number> {
  const token = 'idle-heap-operator-token';
  const node = ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapDir}`, '--import', 'tsx'];
  const gw = target === 'bare'
    ? children.spawn([...node, join(here, 'servers/bare-relay.ts'), '--ack'])
    : children.spawn([...node, join(root, 'main/cli.ts'), 'serve', '--host', '127.0.0.1', '--port', '0',
      '--db', join(dir, 'idle.sqlite'), '--data-dir', dir, '--operator-token', token, '--log-level', 'warn', '--no-mdns', '--udp-probe-port', '0',
      '--max-connections', String(boards + 100)], { ...process.env, COURTSIDE_DISCOVERY: 'off' });
  const m = await waitForOutput(gw, target === 'bare' ? /^READY (\d+)$/m : /listening on 127\.0\.0\.1:(\d+)/, 30_000, 'server listening');
  const port = Number(m[1]);
  // A few boards first, connected, heard and gone again: the code of connecting and of a
  // heartbeat is compiled before the first snapshot, so it is not counted as the boards' memory.
  const warm = children.spawn(['--import', 'tsx', join(here, 'idle-load.ts'), '--target', target, '--port', String(port),
    '--boards', '50', '--offset', String(boards + 1000), '--interval-ms', '1000', '--rounds', '2']);
  await waitForOutput(warm, /^(\{.*\})$/m, 120_000, 'warm-up result');
  warm.child.stdin!.end();
  await stopChild(warm.child, 10_000);
  await new Promise((r) => setTimeout(r, 2000));
  const before = census(await snapshot(gw.child.pid!, 1));
  // One round, long enough to connect and for every board to have sent one heartbeat.
  const load = children.spawn(['--import', 'tsx', join(here, 'idle-load.ts'), '--target', target, '--port', String(port),
    '--boards', String(boards), '--interval-ms', '5000', '--rounds', '1']);
  await waitForOutput(load, /^(\{.*\})$/m, 300_000, 'loader result');
  const after = census(await snapshot(gw.child.pid!, 2));
  const rows: { what: string; per_board: number; bytes_per_board: number }[] = [];
  let total = 0;
  for (const [k, a] of after) {
    const b = before.get(k) ?? { n: 0, bytes: 0 };
    const dn = a.n - b.n;
    const db = a.bytes - b.bytes;
    total += db;
    if (dn / boards >= 0.5 || db / boards >= 16) rows.push({ what: k, per_board: Math.round((dn / boards) * 100) / 100, bytes_per_board: Math.round(db / boards) });
  }
  rows.sort((x, y) => y.bytes_per_board - x.bytes_per_board);
  process.stdout.write(JSON.stringify({
    bench: 'heap retained per idle board connection (V8 snapshot after N boards minus before)',
    target, boards, heap_bytes_per_board: Math.round(total / boards), objects: rows.slice(0, top),
  }, null, 2) + '\n');
  load.child.stdin!.end();
  await stopChild(load.child, 10_000);
  await stopChild(gw.child, 10_000);
  return 0;
}

main().then(
  (code) => {
    children.killAll();
    // --keep DIR: the two snapshots stay there, for a heap viewer.
    if (v.keep) for (const f of readdirSync(snapDir)) renameSync(join(snapDir, f), join(v.keep, f));
    rmSync(dir, { recursive: true, force: true });
    process.exit(code);
  },
  (e: unknown) => { process.stderr.write(`idle-heap: ${e instanceof Error ? e.stack : String(e)}\n`); children.killAll(); rmSync(dir, { recursive: true, force: true }); process.exit(1); },
);
