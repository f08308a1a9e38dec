/**
 * The registers of an ESP32 (classic) that a flasher reads and writes: the
 * chip-detect magic word, the eFuse words holding MAC, package and revision,
 * the UART clock divider, and the SPI0 controller's user-command registers
 * through which the flash chip's JEDEC id is read (RDID, 0x9F). Addresses and
 * bit positions are those of the ESP32 Technical Reference Manual / eFuse map.
 */
export interface ChipProfile {
  name: string;
  /** Value at 0x40001000 (CHIP_DETECT_MAGIC_REG). */
  magic: number;
  /** ROM-loader FLASH_BEGIN payload words (ESP32 ROM: 4, newer ROMs: 5 with the encrypt flag). */
  romBeginWords: number[];
  /** GET_SECURITY_INFO (0x14) is not in the ESP32 ROM. */
  securityInfo: boolean;
  /** Where the first-stage bootloader lives in flash. */
  bootloaderOffset: number;
}

export const ESP32: ChipProfile = {
  name: 'ESP32',
  magic: 0x00f01d83,
  romBeginWords: [4, 5],
  securityInfo: false,
  bootloaderOffset: 0x1000,
};

const EFUSE_BASE = 0x3ff5a000;
const SYSCON_DATE = 0x3ff66000 + 0x7c;
const UART0_CLKDIV = 0x3ff40014;
const SPI_BASE = 0x3ff42000;
const SPI_CMD = SPI_BASE + 0x00;
const SPI_USR2 = SPI_BASE + 0x24;
const SPI_W0 = SPI_BASE + 0x80;
const SPI_CMD_USR = 1 << 18;
const RDID = 0x9f;

/** JEDEC capacity byte for a flash size (log2 of the size in bytes). */
export function jedecCapacity(bytes: number): number {
  return Math.round(Math.log2(bytes));
}

export class Esp32Registers {
  private readonly regs = new Map<number, number>();

  constructor(
    mac: Buffer,
    private readonly flashSize: number,
    /** JEDEC manufacturer and memory type (default Winbond W25Q, 0xEF 0x40). */
    private readonly jedec = { manufacturer: 0xef, type: 0x40 },
  ) {
    this.regs.set(0x40001000, ESP32.magic);
    // eFuse BLK0: word 1 = MAC bytes 2..5, word 2 low half = MAC bytes 0..1 (then the MAC CRC).
    this.regs.set(EFUSE_BASE + 4, mac.readUInt32BE(2));
    this.regs.set(EFUSE_BASE + 8, (mac.readUInt16BE(0) | (0x5a << 16)) >>> 0);
    // word 3: package 1 (ESP32-D0WD) in bits 9..11, rev-1 bit 15; word 5 bit 20 and APB_CTRL_DATE bit 31: revision 3.
    this.regs.set(EFUSE_BASE + 12, (1 << 9) | (1 << 15));
    this.regs.set(EFUSE_BASE + 20, 1 << 20);
    this.regs.set(SYSCON_DATE, 0x80000000);
    // 40 MHz crystal: the ROM sets the divider for 115200 baud.
    this.regs.set(UART0_CLKDIV, Math.round(40e6 / 115200));
  }

  read(addr: number): number {
    return this.regs.get(addr >>> 0) ?? 0;
  }

  write(addr: number, value: number, mask = 0xffffffff): void {
    const a = addr >>> 0;
    const next = ((this.read(a) & ~mask) | (value & mask)) >>> 0;
    this.regs.set(a, next);
    if (a === SPI_CMD && next & SPI_CMD_USR) this.runSpiCommand();
  }

  /** The SPI user command finishes at once: RDID puts the JEDEC id in W0; the USR bit clears. */
  private runSpiCommand(): void {
    const command = this.read(SPI_USR2) & 0xff;
    if (command === RDID) {
      this.regs.set(SPI_W0, (this.jedec.manufacturer | (this.jedec.type << 8) | (jedecCapacity(this.flashSize) << 16)) >>> 0);
    }
    this.regs.set(SPI_CMD, this.read(SPI_CMD) & ~SPI_CMD_USR);
  }
}

export function parseMac(mac: string): Buffer {
  const b = Buffer.from(mac.replace(/[^0-9a-f]/gi, ''), 'hex');
  if (b.length !== 6) throw new Error(`bad MAC ${mac}`);
  return b;
}
