#!/usr/bin/env node
import { main } from '../dist/src/cli/fcp.js';
main(process.argv).catch((err) => {
  process.stderr.write(`fcp: ${err && err.message ? err.message : String(err)}\n`);
  process.exit(typeof err?.exitCode === 'number' ? err.exitCode : 1);
});
