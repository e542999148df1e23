// Gradients for TF.js in Node. `import '@tensorflow/tfjs-core'` loads the package's CommonJS
// bundle, which registers kernels' forward functions only; the gradient functions ship as ES
// modules under tfjs-core/dist/gradients/ whose relative imports have no '.js' extension, so
// Node refuses them as they are. registerGradients() adds a module-resolution hook that appends
// '.js' to relative imports inside tfjs-core/dist, then imports dist/register_all_gradients.js.
// That ES copy of tfjs-core keeps its registries on globalThis, shared with the CommonJS copy,
// so the gradients apply to tensors made through either. (bench/peers/tfjs-gpt.mjs does the same.)
import { createRequire, register } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

const HOOK = `export async function resolve(specifier, context, nextResolve) {
  const inTfjsCore = context.parentURL !== undefined && context.parentURL.includes('/@tensorflow/tfjs-core/dist/');
  if (!inTfjsCore || !specifier.startsWith('.')) return nextResolve(specifier, context);
  const resolved = await nextResolve(specifier.endsWith('.js') ? specifier : specifier + '.js', context);
  return { ...resolved, format: 'module' };
}`;

let registered = null;
/** Registers every tfjs-core gradient function (once per process). */
export function registerGradients() {
  registered ??= (async () => {
    register(`data:text/javascript,${encodeURIComponent(HOOK)}`);
    const core = dirname(require.resolve('@tensorflow/tfjs-core/package.json'));
    await import(pathToFileURL(join(core, 'dist', 'register_all_gradients.js')).href);
  })();
  return registered;
}
