/** The package entry for browsers: installs the browser platform, then exports the API. */
import { browserPlatform } from './platform/browser.js';
import { setPlatform } from './wasm/platform.js';

setPlatform(browserPlatform);
export * from './index.js';
