import type { Server } from 'node:http';
/** Serves files under `prefixes` of `root` (default: the repository); `isolated` adds COOP/COEP. */
export function staticServer(options?: { isolated?: boolean; prefixes?: string[]; root?: string }): Server;
