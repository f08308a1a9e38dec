import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { captureIO } from '../support/cli.js';
import {
  NvsError, generateNvsFromCsv, generateNvsPartition, nvsCommand, nvsCrc32, parseNvsCsv, parseNvsPartition,
  type NvsEntry, type NvsErrorCode, type NvsParsedEntry,
} from '../../main/gateway/usb/nvs/index.js';
import { sharedData, sharedPath } from '../support/shared-data.js';

// The official tool's outputs; shared read-only with the firmware team.
const VECTORS = sharedPath('test-vectors/nvs', 'COURTSIDE_NVS_VECTORS');
const vectors = existsSync(VECTORS)
  ? readdirSync(VECTORS).filter((f) => f.endsWith('.csv') && existsSync(join(VECTORS, f.replace(/\.csv$/, '.bin')))).sort()
  : [];
const VECTOR_DATA = sharedData('NVS test vectors (<name>.csv + <name>.bin pairs)', VECTORS, vectors.length > 0, 'COURTSIDE_NVS_VECTORS');

const tmp = (): string => mkdtempSync(join(tmpdir(), 'courtside-nvs-'));

function throwsCode(fn: () => unknown, code: NvsErrorCode, text?: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof NvsError, `expected NvsError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (typeof text === 'string') assert.ok(e.message.includes(text), `message: ${e.message}`);
    else if (text) assert.match(e.message, text);
    return true;
  });
}

/** What the CSV says each data row should read back as. */
function expectedFromCsv(csv: string, baseDir: string): Omit<NvsParsedEntry, 'type'>[] {
  let ns = '';
  return parseNvsCsv(csv).flatMap((r) => {
    if (r.type === 'namespace') { ns = r.key!; return []; }
    const raw = r.type === 'file' ? readFileSync(join(baseDir, r.value!)) : undefined;
    const text = raw ? raw.toString('utf8') : r.value!;
    const enc = r.encoding!;
    let value: NvsParsedEntry['value'];
    if (enc === 'string') value = text;
    else if (enc === 'hex2bin') value = Buffer.from(text.trim(), 'hex');
    else if (enc === 'base64') value = Buffer.from(text, 'base64');
    else if (enc === 'binary') value = raw ?? Buffer.from(text, 'utf8');
    else value = enc.endsWith('64') ? BigInt(text.trim()) : Number(text.trim());
    return [{ namespace: ns, key: r.key!, value }];
  });
}

function assertSameEntries(actual: NvsParsedEntry[], expected: Omit<NvsParsedEntry, 'type'>[]): void {
  assert.deepEqual(actual.map(({ namespace, key, value }) => ({ namespace, key, value })), expected);
}

describe('nvs vectors from the official tool', () => {
  test('the shared vector folder has vectors', { skip: VECTOR_DATA.skip }, () => {
    assert.ok(VECTOR_DATA.present, VECTOR_DATA.missing);
  });
  for (const name of vectors) {
    const csv = readFileSync(join(VECTORS, name), 'utf8');
    const official = readFileSync(join(VECTORS, name.replace(/\.csv$/, '.bin')));
    test(`${name}: byte-identical at size ${official.length}`, () => {
      const ours = generateNvsFromCsv(csv, official.length, { baseDir: VECTORS });
      const diff = ours.findIndex((b, i) => b !== official[i]);
      assert.equal(ours.length, official.length);
      assert.equal(diff, -1, `first difference at 0x${diff.toString(16)}`);
    });
    test(`${name}: round trip through parseNvsPartition`, () => {
      const expected = expectedFromCsv(csv, VECTORS);
      assertSameEntries(parseNvsPartition(generateNvsFromCsv(csv, official.length, { baseDir: VECTORS })).entries, expected);
      assertSameEntries(parseNvsPartition(official).entries, expected);
    });
  }
});

describe('nvs crc and layout', () => {
  test('crc32 matches zlib.crc32 with seed 0xFFFFFFFF (the tool and esp_rom_crc32_le)', () => {
    const header = Buffer.from([0, 0, 0, 0, 0xfe, ...Array<number>(19).fill(0xff)]);
    assert.equal(nvsCrc32(header), 0xb9ba2d84);
    const z = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
    if (z) for (const s of ['', 'a', 'hello world', 'x'.repeat(1000)]) assert.equal(nvsCrc32(Buffer.from(s)), z(Buffer.from(s), 0xffffffff));
  });

  test('types and namespaces read back with their NVS types', () => {
    const img = generateNvsFromCsv('key,type,encoding,value\nns,namespace,,\na,data,i16,-5\nb,data,u64,7\ns,data,string,hi\n', 0x3000);
    const p = parseNvsPartition(img);
    assert.deepEqual(p.namespaces, [{ name: 'ns', index: 1 }]);
    assert.deepEqual(p.entries.map((e) => [e.type, e.value]), [['i16', -5], ['u64', 7n], ['string', 'hi']]);
  });

  test('a namespace named again reuses its index instead of the latest one', () => {
    const csv = 'key,type,encoding,value\na,namespace,,\nx,data,u8,1\nb,namespace,,\ny,data,u8,2\na,namespace,,\nz,data,u8,3\n';
    const p = parseNvsPartition(generateNvsFromCsv(csv, 0x3000));
    assert.deepEqual(p.namespaces.map((n) => n.name), ['a', 'b']);
    assert.deepEqual(p.entries.map((e) => `${e.namespace}.${e.key}`), ['a.x', 'b.y', 'a.z']);
  });

  test('a blob that starts on the last free entry gets an empty first chunk, like the tool', () => {
    const entries: NvsEntry[] = [{ type: 'namespace', key: 'n' }];
    for (let i = 0; i < 124; i++) entries.push({ type: 'data', key: `k${i}`, encoding: 'u8', value: i });
    entries.push({ type: 'data', key: 'blob', encoding: 'binary', value: Buffer.alloc(100, 7) });
    const img = generateNvsPartition(entries, 0x3000);
    const last = img.subarray(64 + 125 * 32, 64 + 126 * 32);
    assert.deepEqual([last[1], last[2], last[3], last.readUInt16LE(24)], [0x42, 1, 0, 0]);
    assert.equal(img.readUInt32LE(0), 0xfffffffc);
    assert.equal(img.readUInt32LE(4096), 0xfffffffe);
    assert.deepEqual(parseNvsPartition(img).entries.at(-1)!.value, Buffer.alloc(100, 7));
  });

  test('blobs span pages; version 1 keeps them in one page', () => {
    const blob = Buffer.from(Array.from({ length: 9000 }, (_, i) => (i * 7) & 0xff));
    const v2 = generateNvsPartition([{ type: 'namespace', key: 'n' }, { type: 'data', key: 'b', encoding: 'binary', value: blob }], 0x5000);
    assert.deepEqual(parseNvsPartition(v2).entries[0]!.value, blob);
    const small = blob.subarray(0, 1984);
    const v1 = generateNvsPartition([{ type: 'namespace', key: 'n' }, { type: 'data', key: 'b', encoding: 'hex2bin', value: small }], 0x3000, { version: 1 });
    assert.equal(v1[8], 0xff);
    assert.equal(v1[64 + 32 + 1], 0x41);
    assert.deepEqual(parseNvsPartition(v1).entries[0]!.value, small);
  });

  test('file rows read files relative to baseDir', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'cert.pem'), 'line1\nline2');
    writeFileSync(join(dir, 'k.hex'), 'deadbeef\n');
    writeFileSync(join(dir, 'k.b64'), 'AQID');
    writeFileSync(join(dir, 'raw.bin'), Buffer.from([0, 255, 1]));
    const csv = 'key,type,encoding,value\nf,namespace,,\ncert,file,string,cert.pem\nhex,file,hex2bin,k.hex\nb64,file,base64,k.b64\nraw,file,binary,raw.bin\n';
    const p = parseNvsPartition(generateNvsFromCsv(csv, 0x3000, { baseDir: dir }));
    assert.deepEqual(p.entries.map((e) => e.value), ['line1\nline2', Buffer.from('deadbeef', 'hex'), Buffer.from([1, 2, 3]), Buffer.from([0, 255, 1])]);
  });
});

describe('nvs csv dialect', () => {
  test('comments, blank lines, CRLF, BOM, quotes and reordered columns', () => {
    const csv = '\ufeff# provisioning\r\nvalue,key,encoding,type\r\n,ns,,namespace\r\n\r\n"a, ""b""",s1,string,data\r\n# skipped\r\n"multi\r\nline",s2,string,data\r\nplain"quote,s3,string,data\r\n';
    const rows = parseNvsCsv(csv);
    assert.deepEqual(rows.map((r) => [r.line, r.key, r.value]), [[3, 'ns', ''], [5, 's1', 'a, "b"'], [7, 's2', 'multi\nline'], [9, 's3', 'plain"quote']]);
    const p = parseNvsPartition(generateNvsFromCsv(csv, 0x3000));
    assert.deepEqual(p.entries.map((e) => e.value), ['a, "b"', 'multi\nline', 'plain"quote']);
  });

  test('a namespace row may omit the trailing empty columns', () => {
    assert.equal(parseNvsPartition(generateNvsFromCsv('key,type,encoding,value\nns,namespace\nx,data,u8,1\n', 0x3000)).entries.length, 1);
  });
});

describe('nvs errors', () => {
  const H = 'key,type,encoding,value\nns,namespace,,\n';
  const gen = (rows: string, size: number | string = 0x3000) => () => generateNvsFromCsv(H + rows, size);

  test('NVS_KEY_TOO_LONG', () => {
    throwsCode(gen('abcdefghijklmnopq,data,u8,1\n'), 'NVS_KEY_TOO_LONG', "line 3: key 'abcdefghijklmnopq' is longer than 15 characters");
    throwsCode(gen('ééééééééé,data,u8,1\n'), 'NVS_KEY_TOO_LONG', 'bytes of UTF-8');
    assert.doesNotThrow(gen('abcdefghijklmno,data,u8,1\n'));
  });
  test('NVS_KEY_INVALID', () => throwsCode(gen(',data,u8,1\n'), 'NVS_KEY_INVALID', 'line 3: key must not be empty'));
  test('NVS_SIZE_INVALID', () => {
    for (const size of [0x2000, 0x3001, 'abc', '-0x3000', '']) {
      throwsCode(gen('', size), 'NVS_SIZE_INVALID', 'size must be a multiple of 4096 and at least 0x3000');
    }
    assert.equal(generateNvsFromCsv(H, '0x4000').length, 0x4000);
    assert.equal(generateNvsFromCsv(H, '16384').length, 0x4000);
  });
  test('NVS_VALUE_RANGE', () => {
    for (const [enc, v] of [['u8', '256'], ['i8', '-129'], ['u16', '-1'], ['i32', '2147483648'], ['u64', '18446744073709551616'], ['i64', '-9223372036854775809']]) {
      throwsCode(gen(`k,data,${enc},${v}\n`), 'NVS_VALUE_RANGE', `out of range for ${enc}`);
    }
  });
  test('NVS_VALUE_INVALID', () => {
    throwsCode(gen('k,data,u16,12abc\n'), 'NVS_VALUE_INVALID', 'not a decimal integer');
    throwsCode(gen('k,data,u16,0x10\n'), 'NVS_VALUE_INVALID');
    throwsCode(gen('k,data,hex2bin,abc\n'), 'NVS_VALUE_INVALID', 'odd number of digits');
    throwsCode(gen('k,data,hex2bin,zz\n'), 'NVS_VALUE_INVALID', 'not a hex digit');
    throwsCode(gen('k,data,base64,SGVsbG8\n'), 'NVS_VALUE_INVALID', 'not valid base64');
  });
  test('NVS_VALUE_TOO_LONG', () => {
    assert.doesNotThrow(gen(`k,data,string,${'x'.repeat(3967)}\n`));
    throwsCode(gen(`k,data,string,${'x'.repeat(3968)}\n`), 'NVS_VALUE_TOO_LONG', 'at most 3967 fit');
  });
  test('NVS_PARTITION_FULL', () => {
    const rows = Array.from({ length: 300 }, (_, i) => `k${i},data,u8,1\n`).join('');
    throwsCode(gen(rows), 'NVS_PARTITION_FULL', "line 254: partition of 12288 bytes (0x3000) is full at key 'k251'");
    throwsCode(gen(`b,data,hex2bin,${'00'.repeat(8000)}\n`), 'NVS_PARTITION_FULL');
  });
  test('NVS_NO_NAMESPACE', () => {
    throwsCode(() => generateNvsFromCsv('key,type,encoding,value\nk,data,u8,1\n', 0x3000), 'NVS_NO_NAMESPACE', "line 2: key 'k' comes before any namespace");
  });
  test('NVS_TOO_MANY_NAMESPACES', () => {
    const entries: NvsEntry[] = Array.from({ length: 255 }, (_, i) => ({ type: 'namespace', key: `n${i}` }));
    throwsCode(() => generateNvsPartition(entries, 0x10000), 'NVS_TOO_MANY_NAMESPACES');
  });
  test('NVS_ENCODING_UNSUPPORTED', () => {
    const entries = [{ type: 'namespace', key: 'n' }, { type: 'data', key: 'k', encoding: 'float', value: '1' }] as unknown as NvsEntry[];
    throwsCode(() => generateNvsPartition(entries, 0x3000), 'NVS_ENCODING_UNSUPPORTED', "encoding 'float'");
  });
  test('NVS_FILE_UNREADABLE', () => {
    throwsCode(() => generateNvsFromCsv(H + 'k,file,binary,nope.bin\n', 0x3000, { baseDir: tmp() }), 'NVS_FILE_UNREADABLE', "line 3: cannot read file 'nope.bin'");
  });
  test('NVS_BAD_CSV names the line', () => {
    throwsCode(() => generateNvsFromCsv('', 0x3000), 'NVS_BAD_CSV', 'empty');
    throwsCode(() => generateNvsFromCsv('key,type,value\n', 0x3000), 'NVS_BAD_CSV', 'line 1: header must name the columns key,type,encoding,value (missing encoding)');
    throwsCode(gen('k,dta,u8,1\n'), 'NVS_BAD_CSV', "line 3: type 'dta' must be namespace, data or file");
    throwsCode(gen('k,data,float,1\n'), 'NVS_BAD_CSV', "line 3: encoding 'float'");
    throwsCode(gen('k,data,string,hello, world\n'), 'NVS_BAD_CSV', 'line 3: 5 fields');
    throwsCode(gen('k,data,string\n'), 'NVS_BAD_CSV', 'line 3: row for key');
    throwsCode(gen('k,data,string,"open\nstill open\n'), 'NVS_BAD_CSV', 'line 3: quoted value is never closed');
  });
  test('NVS_PARSE_CRC and NVS_PARSE_INVALID', () => {
    const img = generateNvsFromCsv(H + 's,data,string,hello\n', 0x3000);
    const bad = Buffer.from(img);
    bad[64 + 32 + 10]! ^= 1;
    throwsCode(() => parseNvsPartition(bad), 'NVS_PARSE_CRC', 'page 0 entry 1: entry CRC mismatch');
    const badData = Buffer.from(img);
    badData[64 + 64]! ^= 1;
    throwsCode(() => parseNvsPartition(badData), 'NVS_PARSE_CRC', 'data CRC mismatch');
    const badHeader = Buffer.from(img);
    badHeader[4] = 9;
    throwsCode(() => parseNvsPartition(badHeader), 'NVS_PARSE_CRC', 'header CRC');
    throwsCode(() => parseNvsPartition(img.subarray(0, 5000)), 'NVS_PARSE_INVALID');
  });
});

describe('courtside nvs generate', () => {
  const run = async (argv: string[], cwd?: string) => {
    const c = captureIO({ cwd });
    const code = await nvsCommand(argv, c.io);
    return { code, out: c.stdout(), err: c.stderr() };
  };

  for (const name of vectors) {
    test(`${name}: output file identical to the vector (hex and decimal size)`, async () => {
      const dir = tmp();
      const official = readFileSync(join(VECTORS, name.replace(/\.csv$/, '.bin')));
      for (const size of [`0x${official.length.toString(16)}`, String(official.length)]) {
        const r = await run(['generate', join(VECTORS, name), join(dir, 'out.bin'), size], VECTORS);
        assert.equal(r.code, 0, r.err);
        assert.ok(readFileSync(join(dir, 'out.bin')).equals(official));
      }
      assert.deepEqual(readdirSync(dir), ['out.bin']);
    });
  }

  test('bad size: exit 2, one line on stderr, no output file', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'in.csv'), 'key,type,encoding,value\nns,namespace,,\n');
    const r = await run(['generate', 'in.csv', 'out.bin', '0x2000'], dir);
    assert.equal(r.code, 2);
    assert.match(r.err, /^courtside nvs: size must be a multiple of 4096 and at least 0x3000 .*\(NVS_SIZE_INVALID\)\n$/);
    assert.deepEqual(readdirSync(dir), ['in.csv']);
  });

  test('CSV errors, bad arguments and unreadable inputs exit 2 with one line', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'in.csv'), 'key,type,encoding,value\nns,namespace,,\nk,data,u8,300\n');
    for (const argv of [
      ['generate', 'in.csv', 'out.bin', '0x3000'],
      ['generate', 'in.csv', 'out.img', '0x3000'],
      ['generate', 'missing.csv', 'out.bin', '0x3000'],
      ['generate', 'in.csv', 'out.bin'],
      ['generate', 'in.csv', 'out.bin', '0x3000', '--version', '3'],
      ['generate', 'in.csv', 'out.bin', '0x3000', '--bogus'],
      ['encrypt', 'in.csv', 'out.bin', '0x3000'],
    ]) {
      const r = await run(argv, dir);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.err, /^courtside nvs: [^\n]+\n$/, r.err);
    }
    assert.match((await run(['generate', 'in.csv', 'out.bin', '0x3000'], dir)).err, /in\.csv:3: value 300 for key 'k' is out of range for u8/);
    assert.deepEqual(readdirSync(dir), ['in.csv']);
  });

  test('--help, no arguments, --outdir, --version=1 and several inputs', async () => {
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /^Usage: courtside nvs generate/);
    assert.equal((await run([])).code, 2);
    const dir = tmp();
    mkdirSync(join(dir, 'csv'));
    writeFileSync(join(dir, 'csv/a.csv'), 'key,type,encoding,value\nns,namespace,,\na,data,u8,1\n');
    writeFileSync(join(dir, 'csv/b.csv'), 'key,type,encoding,value\nb,data,string,two\n');
    const r = await run(['generate', 'csv/a.csv', 'csv/b.csv', 'nvs.bin', '12288', '--outdir', 'build/out', '--version=1'], dir);
    assert.equal(r.code, 0, r.err);
    const img = readFileSync(join(dir, 'build/out/nvs.bin'));
    assert.equal(img[8], 0xff);
    assert.deepEqual(parseNvsPartition(img).entries.map((e) => [e.namespace, e.key, e.value]), [['ns', 'a', 1], ['ns', 'b', 'two']]);
  });
});
