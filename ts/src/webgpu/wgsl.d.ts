/** WGSL sources, imported as text (tsup's `text` loader for `.wgsl`, tsup.config.ts). */
declare module '*.wgsl' {
  const source: string;
  export default source;
}
