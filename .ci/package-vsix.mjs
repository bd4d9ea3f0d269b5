#!/usr/bin/env node
// Packages one VSIX per platform (`vsce package --target`) from the built dist/ (`npm run build`
// first; `npm run package` does both), each with only that platform's onnxruntime-node binaries:
// .vscodeignore names the linux-x64 folder, and each target gets a copy naming its own.
// Usage: node .ci/package-vsix.mjs [--out DIR] [TARGET…]   (default: every target, into dist-vsix/)
// Here under .ci/ because it is a release step, not part of the extension or the CLI.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// VS Code's target → onnxruntime-node's bin/napi-v6/PLATFORM/ARCH folder.
const TARGETS = {
  'linux-x64': 'linux/x64',
  'linux-arm64': 'linux/arm64',
  'darwin-x64': 'darwin/x64',
  'darwin-arm64': 'darwin/arm64',
  'win32-x64': 'win32/x64',
};
const NATIVE_LINE = /^!node_modules\/onnxruntime-node\/bin\/napi-v\*\/[a-z0-9]+\/[a-z0-9]+\/\*\*$/m;

const { values, positionals } = parseArgs({ options: { out: { type: 'string', default: path.join(ROOT, 'dist-vsix') } }, allowPositionals: true });
const targets = positionals.length ? positionals : Object.keys(TARGETS);
for (const t of targets) if (!(t in TARGETS)) throw new Error(`${t}: not a target (${Object.keys(TARGETS).join(', ')})`);

const ignore = readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8');
if (!NATIVE_LINE.test(ignore)) throw new Error('.vscodeignore has no onnxruntime-node bin/napi-v*/<platform>/<arch>/** line to retarget');
const { version, name } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const vsce = path.join(path.dirname(createRequire(import.meta.url).resolve('@vscode/vsce/package.json')), 'vsce');
mkdirSync(values.out, { recursive: true });
const scratch = mkdtempSync(path.join(tmpdir(), 'tensorport-vsix-'));
// Two at a time: vsce's zipping is CPU-bound, and CI machines have two cores or more.
const CONCURRENCY = 2;
async function packageTarget(target) {
  const ignoreFile = path.join(scratch, `${target}.vscodeignore`);
  writeFileSync(ignoreFile, ignore.replace(NATIVE_LINE, `!node_modules/onnxruntime-node/bin/napi-v*/${TARGETS[target]}/**`));
  const out = path.join(values.out, `${name}-${target}-${version}.vsix`);
  const t0 = Date.now();
  await promisify(execFile)(process.execPath, [vsce, 'package', '--target', target, '--ignoreFile', ignoreFile, '--allow-missing-repository', '--no-rewrite-relative-links', '-o', out],
    { cwd: ROOT, maxBuffer: 16 * 2 ** 20 });
  console.log(`${out}: ${target} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}
try {
  const queue = [...targets];
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    for (let t = queue.shift(); t; t = queue.shift()) await packageTarget(t);
  }));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
