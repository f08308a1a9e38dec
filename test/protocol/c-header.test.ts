/**
 * (d) courtside.h compiles (C99 and C++, warnings as errors), says what the
 * TypeScript contract says, and the C in PROTOCOL.md compiles; the batch
 * builder is run and the frames it prints must pass the gateway's validation
 * and the exported JSON Schema.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BoardFrames,
  DEFAULT_PORT,
  FrameErrorCodes,
  GatewayToBoardFrames,
  KnownCommands,
  MAX_BATCH_SAMPLES,
  PROTOCOL_VERSION,
  Paths,
} from '../../firmware-protocol/index.js';
import {
  DEVICE_SERVICE_TYPE,
  DISCOVERY_VERSION,
  GATEWAY_SERVICE_TYPE,
  PROBE_ANSWER_TYPE,
  PROBE_MAX_BYTES,
  PROBE_PORT,
  PROBE_TYPE,
} from '../../firmware-protocol/discovery.js';
import { DEFAULTS } from '../../main/gateway/options.js';
import { route } from '../../main/gateway/server.js';
import { ROOT, readBlocks, validateAs } from './doc.js';
import { firstError } from './json-schema.js';

const HEADER_DIR = join(ROOT, 'firmware-protocol');
const HEADER = join(HEADER_DIR, 'courtside.h');

function run(cmd: string, args: string[], cwd?: string): { code: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd, timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

const hasGpp = spawnSync('g++', ['--version']).status === 0;

/** `#define NAME value` lines of the header: strings unquoted, numbers as numbers. */
function defines(): Map<string, string | number> {
  const out = new Map<string, string | number>();
  for (const line of readFileSync(HEADER, 'utf8').split('\n')) {
    const m = /^#define\s+(COURTSIDE_\w+)\s+(.+?)\s*(?:\/\*.*)?$/.exec(line);
    if (!m) continue;
    const v = m[2]!;
    out.set(m[1]!, /^".*"$/.test(v) ? (JSON.parse(v) as string) : Number(v));
  }
  return out;
}

describe('(d) courtside.h', () => {
  test('compiles with gcc as C (plain, and C99 -Wall -Wextra -Werror -pedantic)', () => {
    let r = run('gcc', ['-fsyntax-only', '-x', 'c', HEADER]);
    assert.equal(r.code, 0, r.out);
    r = run('gcc', ['-fsyntax-only', '-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-x', 'c', HEADER]);
    assert.equal(r.code, 0, r.out);
  });

  test('compiles as C++ (Arduino sketches are C++)', { skip: hasGpp ? false : 'g++ not installed' }, () => {
    const r = run('g++', ['-fsyntax-only', '-std=c++11', '-Wall', '-Wextra', '-Werror', '-pedantic', '-x', 'c++', HEADER]);
    assert.equal(r.code, 0, r.out);
  });

  test('says what the TypeScript contract says', () => {
    const d = defines();
    const want = (name: string, value: string | number) => assert.equal(d.get(name), value, name);
    want('COURTSIDE_PROTOCOL_VERSION', PROTOCOL_VERSION);
    want('COURTSIDE_DEFAULT_PORT', DEFAULT_PORT);
    want('COURTSIDE_PATH_LEGACY', Paths.legacy);
    want('COURTSIDE_PATH_BOARD', Paths.board);
    want('COURTSIDE_PATH_USER', Paths.user);
    want('COURTSIDE_PATH_OPERATOR', Paths.operator);
    want('COURTSIDE_MAX_FRAME_BYTES', DEFAULTS.maxPayloadBytes);
    want('COURTSIDE_MAX_FRAMES_PER_SECOND', DEFAULTS.maxFramesPerSecond);
    want('COURTSIDE_PING_INTERVAL_MS', DEFAULTS.heartbeatIntervalMs);
    want('COURTSIDE_COMMAND_RESEND_MS', DEFAULTS.commandResendMs);
    want('COURTSIDE_MAX_BATCH_SAMPLES', MAX_BATCH_SAMPLES);
    for (const t of [...Object.keys(BoardFrames), ...Object.keys(GatewayToBoardFrames), 'error']) want(`COURTSIDE_FRAME_${t.toUpperCase()}`, t);
    for (const c of KnownCommands) want(`COURTSIDE_CMD_${c.toUpperCase()}`, c);
    for (const code of Object.keys(FrameErrorCodes)) want(`COURTSIDE_ERR_${code}`, code);
    // Nothing in the header that the contract does not know.
    const frames = [...d.keys()].filter((k) => k.startsWith('COURTSIDE_FRAME_')).length;
    assert.equal(frames, Object.keys(BoardFrames).length + Object.keys(GatewayToBoardFrames).length + 1);
    assert.equal([...d.keys()].filter((k) => k.startsWith('COURTSIDE_ERR_')).length, Object.keys(FrameErrorCodes).length);
    want('COURTSIDE_PROBE_PORT', PROBE_PORT);
    want('COURTSIDE_PROBE_MAX_BYTES', PROBE_MAX_BYTES);
    want('COURTSIDE_PROBE_TYPE', PROBE_TYPE);
    want('COURTSIDE_PROBE_ANSWER_TYPE', PROBE_ANSWER_TYPE);
    want('COURTSIDE_DISCOVERY_VERSION', DISCOVERY_VERSION);
    assert.equal(`${String(d.get('COURTSIDE_MDNS_SERVICE'))}.${String(d.get('COURTSIDE_MDNS_PROTO'))}`, GATEWAY_SERVICE_TYPE);
    assert.equal(`${String(d.get('COURTSIDE_MDNS_DEV_SERVICE'))}.${String(d.get('COURTSIDE_MDNS_PROTO'))}`, DEVICE_SERVICE_TYPE);
    // The id length the header promises is the one the gateway routes.
    const max = d.get('COURTSIDE_ID_MAX_LEN') as number;
    assert.ok(route(`${Paths.board}${'a'.repeat(max)}/`));
    assert.equal(route(`${Paths.board}${'a'.repeat(max + 1)}/`), null);
  });
});

/** cJSON 1.7's declarations (ESP-IDF bundles cJSON): enough to compile the parsing example, not to run it. */
const CJSON_STUB = `#include <stddef.h>
typedef int cJSON_bool;
typedef struct cJSON { struct cJSON *next; struct cJSON *prev; struct cJSON *child; int type;
  char *valuestring; int valueint; double valuedouble; char *string; } cJSON;
cJSON *cJSON_ParseWithLength(const char *value, size_t buffer_length);
cJSON *cJSON_GetObjectItemCaseSensitive(const cJSON * const object, const char * const string);
cJSON_bool cJSON_IsString(const cJSON * const item);
cJSON_bool cJSON_IsNumber(const cJSON * const item);
cJSON_bool cJSON_IsArray(const cJSON * const item);
cJSON_bool cJSON_IsObject(const cJSON * const item);
void cJSON_Delete(cJSON *item);
#define cJSON_ArrayForEach(element, array) for(element = (array != NULL) ? (array)->child : NULL; element != NULL; element = element->next)
`;

/** Drives the documented builders: each line printed is one frame, or a number for a refused build. */
const RUN_MAIN = `
#include <stdio.h>
int main(void) {
    courtside_sample_t s[3] = {
        { 0.012f, -0.981f, 0.05f, 1.5f, -2.25f, 0.0f },
        { 1e-6f, -16.0f, 3.14159f, -1999.9f, 250.0f, 0.5f },
        { -0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f },
    };
    static char buf[256 * 1024];
    size_t n = courtside_build_batch(buf, sizeof buf, 42u, "s-42", 1732212000250LL, 200.0f, s, 3);
    printf("%.*s\\n", (int)n, buf);
    n = courtside_build_batch(buf, sizeof buf, 4294967295u, "odd \\"id\\"\\n", 0, 0.5f, s, 1);
    printf("%.*s\\n", (int)n, buf);
    n = courtside_build_batch(buf, sizeof buf, 0u, NULL, 5, 100.0f, s + 1, 1);
    printf("%.*s\\n", (int)n, buf);
    static courtside_sample_t many[COURTSIDE_MAX_BATCH_SAMPLES];
    for (int i = 0; i < COURTSIDE_MAX_BATCH_SAMPLES; i++) many[i] = s[1];
    n = courtside_build_batch(buf, sizeof buf, 7u, "s-42", 1, 200.0f, many, COURTSIDE_MAX_BATCH_SAMPLES);
    printf("%.*s\\n", (int)n, buf);
    n = courtside_build_ack(buf, sizeof buf, "c_5f2a9d0e1b7c4a63", true);
    printf("%.*s\\n", (int)n, buf);
    n = courtside_build_ack(buf, sizeof buf, "c_5f2a9d0e1b7c4a63", false);
    printf("%.*s\\n", (int)n, buf);
    /* Refused: buffer too small, no samples, too many, NaN, rate 0. */
    courtside_sample_t bad = { 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f };
    bad.gz = NAN;
    printf("%zu %zu %zu %zu %zu\\n",
           courtside_build_batch(buf, 60, 1u, NULL, 0, 100.0f, s, 3),
           courtside_build_batch(buf, sizeof buf, 1u, NULL, 0, 100.0f, s, 0),
           courtside_build_batch(buf, sizeof buf, 1u, NULL, 0, 100.0f, many, COURTSIDE_MAX_BATCH_SAMPLES + 1),
           courtside_build_batch(buf, sizeof buf, 1u, NULL, 0, 100.0f, &bad, 1),
           courtside_build_batch(buf, sizeof buf, 1u, NULL, 0, 0.0f, s, 1));
    return 0;
}
`;

describe('(d) the C in PROTOCOL.md', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'courtside-c-'));
    writeFileSync(join(dir, 'cJSON.h'), CJSON_STUB);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const blocks = readBlocks().filter((b) => b.kind === 'c');
  const flags = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', `-I${HEADER_DIR}`];

  test('the parsing example compiles against cJSON\'s declarations', () => {
    const syntax = blocks.filter((b) => b.arg === 'syntax');
    assert.ok(syntax.length > 0);
    for (const b of syntax) {
      const file = join(dir, `syntax-${b.line}.c`);
      writeFileSync(file, b.body + '\n');
      const r = run('gcc', ['-fsyntax-only', ...flags, `-I${dir}`, file]);
      assert.equal(r.code, 0, `PROTOCOL.md:${b.line}\n${r.out}`);
    }
  });

  test('the building example compiles, runs, and builds frames the gateway and the schemas accept', () => {
    const runnable = blocks.filter((b) => b.arg === 'run');
    assert.ok(runnable.length > 0);
    const src = join(dir, 'build.c');
    writeFileSync(src, runnable.map((b) => b.body).join('\n') + RUN_MAIN);
    const exe = join(dir, 'build');
    const cc = run('gcc', [...flags, '-o', exe, src, '-lm']);
    assert.equal(cc.code, 0, cc.out);
    const out = run(exe, []);
    assert.equal(out.code, 0, out.out);
    const lines = out.out.trimEnd().split('\n');
    assert.equal(lines.length, 7, out.out);
    assert.equal(lines[6], '0 0 0 0 0', 'refused builds return 0');
    const batchSchema = JSON.parse(readFileSync(join(HEADER_DIR, 'schemas/esp32/batch_sensor_data.json'), 'utf8')) as Record<string, unknown>;
    const ackSchema = JSON.parse(readFileSync(join(HEADER_DIR, 'schemas/esp32/command_ack.json'), 'utf8')) as Record<string, unknown>;
    for (const [i, line] of lines.slice(0, 6).entries()) {
      const name = i < 4 ? 'esp32/batch_sensor_data' : 'esp32/command_ack';
      const v = validateAs(name, line);
      assert.ok(v.ok, `${line.slice(0, 200)}: ${v.ok ? '' : v.error.message}`);
      assert.equal(firstError(i < 4 ? batchSchema : ackSchema, JSON.parse(line)), null, line.slice(0, 200));
    }
    const first = JSON.parse(lines[0]!) as { seq: number; session_id: string; start_ms: number; rate_hz: number; samples: number[][] };
    assert.deepEqual([first.seq, first.session_id, first.start_ms, first.rate_hz], [42, 's-42', 1732212000250, 200]);
    assert.deepEqual(first.samples[0], [0.012, -0.981, 0.05, 1.5, -2.25, 0]);
    assert.equal((JSON.parse(lines[1]!) as { session_id: string }).session_id, 'odd "id"\n');
    assert.equal((JSON.parse(lines[2]!) as { session_id: null }).session_id, null);
    const big = lines[3]!;
    assert.equal((JSON.parse(big) as { samples: unknown[] }).samples.length, MAX_BATCH_SAMPLES);
    // A full batch of 5-digit values stays under the frame limit.
    assert.ok(Buffer.byteLength(big) < DEFAULTS.maxPayloadBytes, `${Buffer.byteLength(big)} bytes`);
    assert.deepEqual(JSON.parse(lines[5]!), { type: 'command_ack', command_id: 'c_5f2a9d0e1b7c4a63', ok: false });
  });
});
