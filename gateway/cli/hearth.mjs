#!/usr/bin/env node
// The `hearth` executable: TypeScript sources run through tsx, resolved from
// this file's own node_modules so it works from any working directory.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('./main.ts');
await runCli(process.argv.slice(2));
