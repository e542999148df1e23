// The explorer is a plain Vite app: nothing here is about wasmformer (`vite build` writes dist/). `base: './'` makes the
// built folder work from any path of any static host; the COOP/COEP headers make the dev and
// preview servers cross-origin isolated, so the threaded build runs in the training worker.
import { defineConfig } from 'vite';

const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  base: './',
  server: { headers: isolation },
  preview: { headers: isolation },
});
