/** The USB part's uploads live in the one firmware library (also what OTA serves). */
export { FirmwareStore, MAX_FIRMWARE_BYTES, type FirmwareMeta } from '../firmware/library.js';
