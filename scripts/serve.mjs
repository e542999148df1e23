// A static file server for the browser pages: dist/ and examples/ (and, for the tests,
// ts/tests/browser/), with the COOP/COEP headers that make a page cross-origin isolated, so
// its Web Workers can share memory and wasmformer's threaded build runs there.
// `npm run demo:browser` → http://127.0.0.1:8080/examples/browser/
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
};

/**
 * Serves files under `prefixes` of `root` (default: the repository). `isolated` adds COOP/COEP.
 * @returns the node:http server (not yet listening)
 */
export function staticServer({ isolated = true, prefixes = ['/dist/', '/examples/'], root = ROOT } = {}) {
  return createServer((request, response) => {
    let path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    if (path.endsWith('/')) path += 'index.html';
    const file = join(root, path);
    if (!prefixes.some((prefix) => path.startsWith(prefix)) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404).end();
      return;
    }
    const headers = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' };
    if (isolated) {
      headers['cross-origin-opener-policy'] = 'same-origin';
      headers['cross-origin-embedder-policy'] = 'require-corp';
    }
    response.writeHead(200, headers).end(readFileSync(file));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const port = Number(process.env.PORT ?? 8080);
  staticServer().listen(port, '127.0.0.1', () => {
    console.log(`serving dist/ and examples/ (cross-origin isolated): http://127.0.0.1:${port}/examples/browser/`);
  });
}
