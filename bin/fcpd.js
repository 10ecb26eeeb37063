#!/usr/bin/env node
import { main } from '../dist/src/cli/fcpd.js';
main(process.argv).catch((err) => {
  process.stderr.write(`fcpd: ${err && err.message ? err.message : String(err)}\n`);
  process.exit(1);
});
