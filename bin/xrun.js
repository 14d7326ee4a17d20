#!/usr/bin/env node
// Thin launcher: all logic, and the mapping of errors to exit codes, lives in dist/cli/main.js.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('xrun: not built yet; run `npm install` (or `npm run build`) in the xrun folder first');
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
