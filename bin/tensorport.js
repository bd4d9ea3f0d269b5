#!/usr/bin/env node
// The `tensorport` command: the bundled CLI built by `npm run build` (also run by `npm ci`'s prepare step).
require('../dist/cli.js');
