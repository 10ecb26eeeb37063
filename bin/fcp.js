#!/usr/bin/env node
import { main } from '../dist/src/cli/fcp.js';
import { reportError } from '../dist/src/cli/report-error.js';
main(process.argv).catch((err) => {
  process.exit(reportError('fcp', err, process.argv));
});
