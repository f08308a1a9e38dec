export { NvsError, parseNvsCsv, type NvsCsvRow, type NvsErrorCode } from './csv.js';
export {
  csvRowsToEntries,
  generateNvsFromCsv,
  generateNvsPartition,
  nvsCrc32,
  parseNvsSize,
  type NvsCsvOptions,
  type NvsEncoding,
  type NvsEntry,
  type NvsGenerateOptions,
  type NvsIntEncoding,
} from './generate.js';
export { parseNvsPartition, type NvsNamespace, type NvsParsedEntry, type NvsParsedPartition, type NvsValueType } from './parse.js';
export { NVS_USAGE, nvsCommand } from './cli.js';
