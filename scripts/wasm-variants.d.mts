// Types of wasm-variants.mjs, for tsup.config.ts.
export declare const VARIANTS: Record<string, { targetFeatures: string; threads: boolean; linkArgs: string[] }>;
export declare function rustflags(variant: string): string;
