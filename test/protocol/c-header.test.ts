/**
 * (d) courtside.h compiles (C99, C11 and C++, warnings as errors), says what
 * the TypeScript contract says (the binary frame header's layout included),
 * and the C in PROTOCOL.md compiles; the builders are run, and the frames they
 * print must pass the gateway's validation and the exported JSON Schema, or
 * (binary frames) decode to what was put in.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  BINARY_CHANNELS,
  BINARY_HEADER_BYTES,
  BINARY_MAGIC_0,
  BINARY_MAGIC_1,
  BINARY_MAX_SAMPLES,
  BINARY_VERSION,
  BoardFrames,
  DEFAULT_PORT,
  decodeBinaryBatch,
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
import { NVS_CONFIG_KEYS, NVS_CONFIG_NAMESPACE, NVS_CONFIG_PARTITION, NVS_CONFIG_VERSION } from '../../firmware-protocol/nvs-config.js';
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
  test('compiles with gcc as C (plain, and C99 and C11 with -Wall -Wextra -Werror -pedantic)', () => {
    let r = run('gcc', ['-fsyntax-only', '-x', 'c', HEADER]);
    assert.equal(r.code, 0, r.out);
    r = run('gcc', ['-fsyntax-only', '-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-x', 'c', HEADER]);
    assert.equal(r.code, 0, r.out);
    // C11 takes the _Static_assert branch (ESP-IDF builds with gnu17).
    r = run('gcc', ['-fsyntax-only', '-std=c11', '-Wall', '-Wextra', '-Werror', '-pedantic', '-x', 'c', HEADER]);
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
    // Frames on the board endpoint: what boards send, what the gateway sends them (resend comes with sessions), error.
    const boardEndpointFrames = [...Object.keys(BoardFrames), ...Object.keys(GatewayToBoardFrames), 'resend', 'error'];
    for (const t of boardEndpointFrames) want(`COURTSIDE_FRAME_${t.toUpperCase()}`, t);
    for (const c of KnownCommands) want(`COURTSIDE_CMD_${c.toUpperCase()}`, c);
    for (const code of Object.keys(FrameErrorCodes)) want(`COURTSIDE_ERR_${code}`, code);
    // Nothing in the header that the contract does not know.
    const frames = [...d.keys()].filter((k) => k.startsWith('COURTSIDE_FRAME_')).length;
    assert.equal(frames, boardEndpointFrames.length);
    want('COURTSIDE_BINARY_MAGIC_0', BINARY_MAGIC_0);
    want('COURTSIDE_BINARY_MAGIC_1', BINARY_MAGIC_1);
    want('COURTSIDE_BINARY_VERSION', BINARY_VERSION);
    want('COURTSIDE_BINARY_CHANNELS', BINARY_CHANNELS);
    want('COURTSIDE_BINARY_HEADER_BYTES', BINARY_HEADER_BYTES);
    want('COURTSIDE_BINARY_MAX_SAMPLES', BINARY_MAX_SAMPLES);
    assert.equal([...d.keys()].filter((k) => k.startsWith('COURTSIDE_ERR_')).length, Object.keys(FrameErrorCodes).length);
    want('COURTSIDE_PROBE_PORT', PROBE_PORT);
    want('COURTSIDE_PROBE_MAX_BYTES', PROBE_MAX_BYTES);
    want('COURTSIDE_PROBE_TYPE', PROBE_TYPE);
    want('COURTSIDE_PROBE_ANSWER_TYPE', PROBE_ANSWER_TYPE);
    want('COURTSIDE_DISCOVERY_VERSION', DISCOVERY_VERSION);
    assert.equal(`${String(d.get('COURTSIDE_MDNS_SERVICE'))}.${String(d.get('COURTSIDE_MDNS_PROTO'))}`, GATEWAY_SERVICE_TYPE);
    assert.equal(`${String(d.get('COURTSIDE_MDNS_DEV_SERVICE'))}.${String(d.get('COURTSIDE_MDNS_PROTO'))}`, DEVICE_SERVICE_TYPE);
    // Board configuration in NVS: where it is, every key the gateway writes and nothing else.
    want('COURTSIDE_NVS_NAMESPACE', NVS_CONFIG_NAMESPACE);
    want('COURTSIDE_NVS_PARTITION', NVS_CONFIG_PARTITION);
    want('COURTSIDE_NVS_CONFIG_VERSION', NVS_CONFIG_VERSION);
    for (const k of NVS_CONFIG_KEYS) want(`COURTSIDE_NVS_KEY_${k.key.toUpperCase()}`, k.key);
    assert.equal([...d.keys()].filter((k) => k.startsWith('COURTSIDE_NVS_KEY_')).length, NVS_CONFIG_KEYS.length);
    // NVS keys are at most 15 bytes.
    for (const k of NVS_CONFIG_KEYS) assert.ok(Buffer.byteLength(k.key) <= 15, k.key);
    // The id length the header promises is the one the gateway routes.
    const max = d.get('COURTSIDE_ID_MAX_LEN') as number;
    assert.ok(route(`${Paths.board}${'a'.repeat(max)}/`));
    assert.equal(route(`${Paths.board}${'a'.repeat(max + 1)}/`), null);
  });
});

test('(d) courtside.h: each NVS key\'s comment gives its NVS type, whether it is required, and its largest value', () => {
  const comments = new Map<string, string>();
  for (const line of readFileSync(HEADER, 'utf8').split('\n')) {
    const m = /^#define\s+COURTSIDE_NVS_KEY_\w+\s+"([^"]+)"\s*\/\*\s*(.*?)\s*\*\/\s*$/.exec(line);
    if (m) comments.set(m[1]!, m[2]!);
  }
  for (const k of NVS_CONFIG_KEYS) {
    const c = comments.get(k.key);
    assert.ok(c, `${k.key}: no comment`);
    assert.equal(c.split(',')[0], k.type, `${k.key}: ${c}`);
    assert.equal(/\brequired\b/.test(c), k.required, `${k.key}: ${c}`);
    if (k.type === 'string') assert.match(c, new RegExp(`up to ${k.max} bytes`), k.key);
    else if (k.key !== 'cfg_ver') assert.match(c, new RegExp(`${'min' in k ? k.min : 0} to ${k.max}\\b`), k.key);
  }
});

describe('(d) courtside.h: the binary frame header', () => {
  /** Offsets and sizes as the comment in firmware-protocol/sessions.ts gives them (decodeBinaryBatch reads these). */
  const LAYOUT: [string, number, number][] = [
    ['magic', 0, 2], ['version', 2, 1], ['channels', 3, 1], ['seq', 4, 4], ['start_ms', 8, 8], ['rate_hz', 16, 4],
    ['count', 20, 2], ['reserved', 22, 2], ['accel_scale', 24, 4], ['gyro_scale', 28, 4],
  ];
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'courtside-layout-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [lang, std] of [['c', 'c99'], ['c', 'gnu17'], ['c++', 'c++11']] as const) {
    test(`courtside_batch_header_t has the wire layout (${std})`, { skip: lang === 'c++' && !hasGpp ? 'g++ not installed' : false }, () => {
      const src = join(dir, `layout-${std}.${lang === 'c' ? 'c' : 'cpp'}`);
      writeFileSync(src, `#include <stddef.h>
#include <stdio.h>
#include "courtside.h"
#define F(f) printf("%s %u %u\\n", #f, (unsigned)offsetof(courtside_batch_header_t, f), (unsigned)sizeof(((courtside_batch_header_t *)0)->f))
int main(void) {
    F(magic); F(version); F(channels); F(seq); F(start_ms); F(rate_hz); F(count); F(reserved); F(accel_scale); F(gyro_scale);
    printf("size %u %u\\n", (unsigned)sizeof(courtside_batch_header_t), (unsigned)sizeof(courtside_raw_sample_t));
    return 0;
}
`);
      const exe = join(dir, `layout-${std}`);
      const cc = run(lang === 'c' ? 'gcc' : 'g++', [`-std=${std}`, '-Wall', '-Wextra', '-Werror', `-I${HEADER_DIR}`, '-o', exe, src]);
      assert.equal(cc.code, 0, cc.out);
      const out = run(exe, []);
      assert.equal(out.code, 0, out.out);
      const lines = out.out.trim().split('\n');
      assert.deepEqual(lines.slice(0, -1), LAYOUT.map(([f, o, n]) => `${f} ${o} ${n}`));
      assert.equal(lines.at(-1), `size ${BINARY_HEADER_BYTES} ${2 * BINARY_CHANNELS}`);
    });
  }

  test('the size check fails the build when the struct is not 32 bytes', () => {
    const broken = readFileSync(HEADER, 'utf8').replace('uint16_t reserved;', 'uint32_t reserved;');
    const h = join(dir, 'courtside.h');
    writeFileSync(h, broken);
    for (const std of ['c99', 'c11']) {
      const r = run('gcc', ['-fsyntax-only', `-std=${std}`, '-x', 'c', h]);
      assert.notEqual(r.code, 0, `${std}: a 34-byte header compiled`);
    }
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

/** ESP-IDF's nvs.h declarations (v5): enough to compile the configuration example. */
/** ESP-IDF 5's declarations for the OTA example (esp_https_ota, the OTA and partition APIs, mbedTLS SHA-256): enough to compile it. */
const OTA_STUBS: Record<string, string> = {
  'esp_err.h': `#pragma once
typedef int esp_err_t;
#define ESP_OK 0
#define ESP_FAIL -1
#define ESP_ERR_HTTPS_OTA_BASE 0x9000
#define ESP_ERR_HTTPS_OTA_IN_PROGRESS (ESP_ERR_HTTPS_OTA_BASE + 1)
`,
  'esp_partition.h': `#pragma once
#include <stddef.h>
#include <stdint.h>
#include "esp_err.h"
typedef struct esp_partition_t { uint32_t address; uint32_t size; char label[17]; } esp_partition_t;
esp_err_t esp_partition_read(const esp_partition_t *partition, size_t src_offset, void *dst, size_t size);
esp_err_t esp_partition_get_sha256(const esp_partition_t *partition, uint8_t *sha_256);
`,
  'esp_ota_ops.h': `#pragma once
#include "esp_partition.h"
const esp_partition_t *esp_ota_get_next_update_partition(const esp_partition_t *start_from);
esp_err_t esp_ota_mark_app_valid_cancel_rollback(void);
`,
  'esp_https_ota.h': `#pragma once
#include <stdbool.h>
#include "esp_err.h"
typedef struct { const char *url; const char *cert_pem; int timeout_ms; bool keep_alive_enable; int buffer_size; } esp_http_client_config_t;
typedef struct { const esp_http_client_config_t *http_config; bool bulk_flash_erase; bool partial_http_download; int max_http_request_size; } esp_https_ota_config_t;
typedef void *esp_https_ota_handle_t;
esp_err_t esp_https_ota_begin(const esp_https_ota_config_t *ota_config, esp_https_ota_handle_t *handle);
esp_err_t esp_https_ota_perform(esp_https_ota_handle_t https_ota_handle);
bool esp_https_ota_is_complete_data_received(esp_https_ota_handle_t https_ota_handle);
esp_err_t esp_https_ota_finish(esp_https_ota_handle_t https_ota_handle);
esp_err_t esp_https_ota_abort(esp_https_ota_handle_t https_ota_handle);
int esp_https_ota_get_image_len_read(esp_https_ota_handle_t https_ota_handle);
int esp_https_ota_get_image_size(esp_https_ota_handle_t https_ota_handle);
`,
  'esp_system.h': `#pragma once
void esp_restart(void);
`,
  'mbedtls/sha256.h': `#pragma once
#include <stddef.h>
typedef struct mbedtls_sha256_context { unsigned int state[8]; unsigned char buffer[64]; } mbedtls_sha256_context;
void mbedtls_sha256_init(mbedtls_sha256_context *ctx);
void mbedtls_sha256_free(mbedtls_sha256_context *ctx);
int mbedtls_sha256_starts(mbedtls_sha256_context *ctx, int is224);
int mbedtls_sha256_update(mbedtls_sha256_context *ctx, const unsigned char *input, size_t ilen);
int mbedtls_sha256_finish(mbedtls_sha256_context *ctx, unsigned char *output);
/* One-shot, as the TLS pinning example uses it. */
int mbedtls_sha256(const unsigned char *input, size_t ilen, unsigned char output[32], int is224);
`,
};

const NVS_STUB = `#include <stddef.h>
#include <stdint.h>
typedef int esp_err_t;
typedef uint32_t nvs_handle_t;
typedef enum { NVS_READONLY, NVS_READWRITE } nvs_open_mode_t;
#define ESP_OK 0
#define ESP_ERR_NVS_NOT_FOUND 0x1102
esp_err_t nvs_open_from_partition(const char *part_name, const char *namespace_name, nvs_open_mode_t open_mode, nvs_handle_t *out_handle);
esp_err_t nvs_get_u8(nvs_handle_t handle, const char *key, uint8_t *out_value);
esp_err_t nvs_get_u16(nvs_handle_t handle, const char *key, uint16_t *out_value);
esp_err_t nvs_get_str(nvs_handle_t handle, const char *key, char *out_value, size_t *length);
void nvs_close(nvs_handle_t handle);
`;

/** ESP-IDF v5's esp_websocket_client.h and the mbedTLS 3 declarations it is used with: enough to compile the TLS pinning example. */
const TLS_STUBS: Record<string, string> = {
  'esp_websocket_client.h': `#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
typedef int esp_err_t;
#define ESP_OK 0
typedef struct esp_websocket_client *esp_websocket_client_handle_t;
typedef struct {
    const char *uri;
    const char *host;
    int port;
    const char *path;
    const char *cert_pem;
    size_t cert_len;
    bool skip_cert_common_name_check;
    esp_err_t (*crt_bundle_attach)(void *conf);
    int network_timeout_ms;
    int reconnect_timeout_ms;
} esp_websocket_client_config_t;
esp_websocket_client_handle_t esp_websocket_client_init(const esp_websocket_client_config_t *config);
esp_err_t esp_websocket_client_start(esp_websocket_client_handle_t client);
`,
  'mbedtls/x509_crt.h': `#pragma once
#include <stddef.h>
#include <stdint.h>
typedef struct mbedtls_x509_buf { int tag; size_t len; unsigned char *p; } mbedtls_x509_buf;
typedef struct mbedtls_x509_crt { int own_buffer; mbedtls_x509_buf raw; mbedtls_x509_buf tbs; struct mbedtls_x509_crt *next; } mbedtls_x509_crt;
typedef struct mbedtls_x509_crl mbedtls_x509_crl;
#define MBEDTLS_X509_BADCERT_NOT_TRUSTED 0x08
void mbedtls_x509_crt_init(mbedtls_x509_crt *crt);
`,
  'mbedtls/ssl.h': `#pragma once
#include <stdint.h>
#include "mbedtls/x509_crt.h"
typedef struct mbedtls_ssl_config mbedtls_ssl_config;
#define MBEDTLS_SSL_VERIFY_REQUIRED 2
void mbedtls_ssl_conf_authmode(mbedtls_ssl_config *conf, int authmode);
void mbedtls_ssl_conf_ca_chain(mbedtls_ssl_config *conf, mbedtls_x509_crt *ca_chain, mbedtls_x509_crl *ca_crl);
void mbedtls_ssl_conf_verify(mbedtls_ssl_config *conf, int (*f_vrfy)(void *, mbedtls_x509_crt *, int, uint32_t *), void *p_vrfy);
`,
  // mbedtls/sha256.h: one header for both examples, in OTA_STUBS.
};

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
    /* Binary frames, printed as hex: one sample, then the largest frame. */
    static uint8_t bin[COURTSIDE_BINARY_HEADER_BYTES + COURTSIDE_BINARY_MAX_SAMPLES * sizeof(courtside_raw_sample_t)];
    courtside_raw_sample_t raw[2] = { { 48, -2000, 102, 24, -37, 0 }, { -32768, 32767, 2048, -1, 1, 16384 } };
    size_t bn = courtside_build_binary(bin, sizeof bin, 0u, 1732212000250.0, 200.0f, 16.0f / 32768, 2000.0f / 32768, raw, 1);
    for (size_t i = 0; i < bn; i++) printf("%02x", bin[i]);
    printf("\\n");
    static courtside_raw_sample_t rows[COURTSIDE_BINARY_MAX_SAMPLES];
    for (int i = 0; i < COURTSIDE_BINARY_MAX_SAMPLES; i++) rows[i] = raw[i % 2];
    bn = courtside_build_binary(bin, sizeof bin, 4294967295u, 0.5, 1000.0f, 16.0f / 32768, 2000.0f / 32768, rows, COURTSIDE_BINARY_MAX_SAMPLES);
    for (size_t i = 0; i < bn; i++) printf("%02x", bin[i]);
    printf("\\n");
    /* Refused binary builds: no samples, too many, buffer too small, rate 0. */
    printf("%zu %zu %zu %zu\\n",
           courtside_build_binary(bin, sizeof bin, 1u, 0.0, 100.0f, 1.0f, 1.0f, raw, 0),
           courtside_build_binary(bin, sizeof bin, 1u, 0.0, 100.0f, 1.0f, 1.0f, rows, COURTSIDE_BINARY_MAX_SAMPLES + 1),
           courtside_build_binary(bin, 40, 1u, 0.0, 100.0f, 1.0f, 1.0f, raw, 2),
           courtside_build_binary(bin, sizeof bin, 1u, 0.0, 0.0f, 1.0f, 1.0f, raw, 1));
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
    writeFileSync(join(dir, 'nvs.h'), NVS_STUB);
    mkdirSync(join(dir, 'mbedtls'), { recursive: true });
    for (const [name, body] of Object.entries(TLS_STUBS)) writeFileSync(join(dir, name), body);
    for (const [name, text] of Object.entries(OTA_STUBS)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const blocks = readBlocks().filter((b) => b.kind === 'c');
  const flags = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', `-I${HEADER_DIR}`];

  test('the parsing, configuration and TLS pinning examples compile against cJSON\'s, NVS\'s, esp_websocket_client\'s and mbedTLS\'s declarations', () => {
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
    assert.equal(lines.length, 10, out.out.slice(0, 2000));
    assert.equal(lines[8], '0 0 0 0', 'refused binary builds return 0');
    assert.equal(lines[9], '0 0 0 0 0', 'refused builds return 0');
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

    // The binary frames: the gateway's decoder reads back what the C put in.
    const A = 16 / 32768;
    const G = 2000 / 32768;
    const one = decodeBinaryBatch(Buffer.from(lines[6]!, 'hex'));
    assert.ok(one.ok, one.ok ? '' : one.error);
    assert.deepEqual(one.batch, { seq: 0, startMs: 1732212000250, rateHz: 200, accelScale: A, gyroScale: G, samples: [[48 * A, -2000 * A, 102 * A, 24 * G, -37 * G, 0]] });
    // The same bytes as the example frame in PROTOCOL.md.
    const doc = readBlocks().find((b) => b.kind === 'exchange' && b.body.includes('<binary 43 53 01 06 00 00 00 00'))!;
    const hex = /<binary ((?:[0-9a-f]{2} ?)+)>/.exec(doc.body)![1]!.replace(/ /g, '');
    assert.equal(lines[6], hex);
    const full = decodeBinaryBatch(Buffer.from(lines[7]!, 'hex'));
    assert.ok(full.ok, full.ok ? '' : full.error);
    assert.equal(full.batch.seq, 4294967295);
    assert.equal(full.batch.startMs, 0.5);
    assert.equal(full.batch.samples.length, BINARY_MAX_SAMPLES);
    assert.deepEqual(full.batch.samples[1], [-32768 * A, 32767 * A, 2048 * A, -1 * G, 1 * G, 16384 * G]);
    assert.ok(lines[7]!.length / 2 < DEFAULTS.maxPayloadBytes);
  });
});
