#!/usr/bin/env node
// Bundles the dashboard page (preact + htm) into dist/dashboard-ui with esbuild: one JS file
// and one CSS file, served by fcpd; nothing is fetched from elsewhere at run time.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

mkdirSync('dist/dashboard-ui', { recursive: true });
await build({
  entryPoints: ['src/dashboard/ui/app.js'],
  bundle: true,
  format: 'esm',
  minify: true,
  target: ['chrome110', 'firefox110', 'safari16'],
  outfile: 'dist/dashboard-ui/app.js',
  logLevel: 'warning',
});
copyFileSync('src/dashboard/ui/app.css', 'dist/dashboard-ui/app.css');
