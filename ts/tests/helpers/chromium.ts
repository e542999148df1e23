// Debian's Chromium driven by playwright-core, as every browser test here starts it (Playwright's
// own browser download cannot work on these machines; see scripts/setup-toolchain.sh).
import { type Browser, chromium } from 'playwright-core';

/** The Chromium binary: `$WASMFORMER_CHROMIUM`, else Debian's. */
export const CHROMIUM = process.env.WASMFORMER_CHROMIUM ?? '/usr/bin/chromium';

/** How {@link launchChromium} starts the browser. */
export interface LaunchOptions {
  /** WebGPU on (`--enable-unsafe-webgpu`, SwiftShader) instead of the GPU turned off. */
  webgpu?: boolean;
  /** More command-line switches. */
  args?: string[];
}

/** Headless Chromium without sandbox, background networking, updates or sync. */
export function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      options.webgpu ? '--enable-unsafe-webgpu' : '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...(options.args ?? []),
    ],
  });
}
