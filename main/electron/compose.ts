/**
 * The desktop app's gateway, without Electron: the settings file in the app's
 * data folder, the standard parts (discovery on by default, as with
 * `courtside serve`). Kept apart from main.ts so a test can start exactly
 * what the app starts, with no Electron binary.
 */
import { startGateway, type Gateway, type GatewayOptions } from '../gateway/index.js';
import { launchOptions } from '../gateway/launch.js';

export function desktopGatewayOptions(userDataDir: string, extra: Pick<GatewayOptions, 'logger' | 'env'> = {}): GatewayOptions {
  return { ...launchOptions({ dataDir: userDataDir }), ...extra };
}

export function startDesktopGateway(userDataDir: string, extra: Pick<GatewayOptions, 'logger' | 'env'> = {}): Promise<Gateway> {
  return startGateway(desktopGatewayOptions(userDataDir, extra));
}
