#!/usr/bin/env node
import { main } from '../dist/src/cli/fcpd.js';
import { reportError } from '../dist/src/cli/report-error.js';
main(process.argv).catch((err) => {
  process.exit(reportError('fcpd', err, process.argv));
});
