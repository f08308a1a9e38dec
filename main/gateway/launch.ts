/**
 * Options for a gateway a person starts (`courtside serve`, the desktop
 * app): the settings file in the data folder, with what the caller says
 * (flags) over it. Both then call `startGateway` with the standard parts, so
 * the desktop app has every part `serve` has, discovery included.
 */
import type { GatewayOptions } from './index.js';
import { defaultDataDir, type CoreOptions } from './options.js';
import { optionsFromSettings, readSettings } from './settings.js';

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function launchOptions(over: CoreOptions & Pick<GatewayOptions, 'logger'> = {}): GatewayOptions {
  const dataDir = over.dataDir ?? defaultDataDir();
  const saved = optionsFromSettings(readSettings(dataDir));
  const { discovery, ...rest } = defined(over);
  return {
    ...saved,
    ...rest,
    dataDir,
    discovery: { ...saved.discovery, ...defined(discovery ?? {}) },
  };
}
