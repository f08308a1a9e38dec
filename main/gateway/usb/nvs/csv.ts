/**
 * The CSV dialect of ESP-IDF's nvs_partition_gen.py: a `key,type,encoding,value`
 * header, physical lines starting with `#` dropped before parsing, and Python's
 * csv "excel" dialect for the rest (quotes, doubled quotes, newlines inside
 * quotes, a stray quote inside an unquoted field taken literally).
 *
 * NvsError lives here rather than in generate.ts because this is the one module
 * every other NVS file imports; defining it elsewhere would create an import cycle.
 */

export type NvsErrorCode =
  | 'NVS_BAD_CSV'
  | 'NVS_KEY_TOO_LONG'
  | 'NVS_KEY_INVALID'
  | 'NVS_NO_NAMESPACE'
  | 'NVS_TOO_MANY_NAMESPACES'
  | 'NVS_ENCODING_UNSUPPORTED'
  | 'NVS_VALUE_INVALID'
  | 'NVS_VALUE_RANGE'
  | 'NVS_VALUE_TOO_LONG'
  | 'NVS_FILE_UNREADABLE'
  | 'NVS_SIZE_INVALID'
  | 'NVS_PARTITION_FULL'
  | 'NVS_PARSE_INVALID'
  | 'NVS_PARSE_CRC';

export class NvsError extends Error {
  constructor(
    readonly code: NvsErrorCode,
    message: string,
    /** 1-based line of the CSV the problem comes from, when there is one. */
    readonly line?: number,
  ) {
    super(message);
    this.name = 'NvsError';
  }
}

/** One data row of the CSV; a column the row is too short for is undefined. */
export interface NvsCsvRow {
  /** 1-based physical line where the row starts (comment lines counted). */
  line: number;
  key: string | undefined;
  type: string | undefined;
  encoding: string | undefined;
  value: string | undefined;
}

const COLUMNS = ['key', 'type', 'encoding', 'value'] as const;

/** Location prefix for messages: "file.csv:4: " or "line 4: ". */
export function where(line: number | undefined, source?: string): string {
  if (line === undefined) return source ? `${source}: ` : '';
  return source ? `${source}:${line}: ` : `line ${line}: `;
}

interface Record { line: number; fields: string[] }

function splitRecords(text: string, source?: string): Record[] {
  // The tool opens the file in text mode, so \r\n and lone \r are newlines too.
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();

  const records: Record[] = [];
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let start = 0;

  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    // The tool filters physical lines before the csv module sees them, so a
    // `#` line is dropped even in the middle of a quoted value; keep that.
    if (text.startsWith('#')) continue;
    if (!inQuotes) {
      start = i + 1;
      if (text === '') { records.push({ line: start, fields: [] }); continue; }
    }
    // afterQuote: we just saw a quote inside a quoted field (closing or doubled).
    let afterQuote = false;
    let quotedField = inQuotes;
    for (const c of text) {
      if (inQuotes) {
        if (afterQuote) {
          afterQuote = false;
          if (c === '"') { field += '"'; continue; }
          inQuotes = false;
          // fall through: the character after a closing quote is handled unquoted
        } else if (c === '"') { afterQuote = true; continue; }
        else { field += c; continue; }
      }
      if (c === ',') { fields.push(field); field = ''; quotedField = false; continue; }
      if (c === '"' && field === '' && !quotedField) { inQuotes = true; quotedField = true; continue; }
      field += c;
    }
    if (afterQuote) inQuotes = false;
    if (inQuotes) { field += '\n'; continue; }
    fields.push(field);
    records.push({ line: start, fields });
    fields = [];
    field = '';
  }
  if (inQuotes) {
    throw new NvsError('NVS_BAD_CSV', `${where(start, source)}quoted value is never closed`, start);
  }
  return records;
}

/**
 * Parses the CSV text into data rows (the header row is consumed). Columns are
 * found by header name like the tool's DictReader; blank lines are skipped.
 */
export function parseNvsCsv(text: string, source?: string): NvsCsvRow[] {
  // The tool reads with encoding='utf8', which would make a BOM part of the
  // first header name and then fail on a missing `key` column; accept it instead.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records = splitRecords(text, source).filter((r) => r.fields.length > 0);
  const header = records.shift();
  if (!header) {
    throw new NvsError('NVS_BAD_CSV', `${where(undefined, source)}the CSV is empty; it needs the header key,type,encoding,value`);
  }
  const names = header.fields.map((f) => f.trim());
  const index = new Map<string, number>();
  names.forEach((n, i) => { if (!index.has(n)) index.set(n, i); });
  const missing = COLUMNS.filter((c) => !index.has(c));
  if (missing.length > 0) {
    throw new NvsError(
      'NVS_BAD_CSV',
      `${where(header.line, source)}header must name the columns key,type,encoding,value (missing ${missing.join(', ')})`,
      header.line,
    );
  }

  return records.map(({ line, fields }) => {
    // DictReader would silently drop extra fields, which is how an unquoted
    // comma truncates a value; refuse that unless the extras are empty.
    const extra = fields.slice(names.length).filter((f) => f !== '');
    if (extra.length > 0) {
      throw new NvsError(
        'NVS_BAD_CSV',
        `${where(line, source)}${fields.length} fields but the header has ${names.length}; quote values that contain commas`,
        line,
      );
    }
    const get = (c: (typeof COLUMNS)[number]): string | undefined => fields[index.get(c)!];
    return { line, key: get('key'), type: get('type'), encoding: get('encoding'), value: get('value') };
  });
}
