/**
 * `tensorport convert` onto a disk that fills up, for real: the built CLI (bin/tensorport.js; `node
 * esbuild.mjs` first) writes into a 256 KiB tmpfs mounted in a private user + mount namespace
 * (`unshare -rm`, no root needed where user namespaces are allowed), converting a 1 MiB checkpoint. It
 * must exit 2 with one line naming the output and "no space left on device", leave the previous output
 * byte-identical and leave no temporary file. Where namespaces are not allowed the tests say so and skip.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { sparseSafetensors } from '../support/sparse';
import { scratchDir } from '../support/tmp';

const BIN = path.join(__dirname, '..', '..', 'bin', 'tensorport.js');
const tmp = scratchDir('convert-diskfull');
const OLD = 'the previous output, which must survive a full disk';

/** Why a tmpfs cannot be mounted in a user namespace here, or undefined when it can. */
function namespaceUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `user namespaces are Linux-only (this is ${process.platform})`;
  const probe = path.join(tmp.dir, 'probe');
  mkdirSync(probe);
  const r = spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=256k tmpfs "$1"', 'sh', probe], { encoding: 'utf8' });
  if (r.error) return `\`unshare\` cannot run: ${r.error.message}`;
  if (r.status !== 0) return `\`unshare -rm\` + \`mount -t tmpfs\` failed (user namespaces not allowed?): ${r.stderr.trim()}`;
  return undefined;
}
const unavailable = namespaceUnavailable();

/** A 1 MiB source and a same-shaped target (sparse: no disk used), and a mapping that copies every tensor. */
function mappingFor(name: string): string {
  const dir = path.join(tmp.dir, name);
  mkdirSync(dir);
  const keys = Array.from({ length: 4 }, (_, i): [string, number[]] => [`layers.${i}.weight`, [256, 256]]);
  sparseSafetensors(path.join(dir, 'src.safetensors'), keys);
  sparseSafetensors(path.join(dir, 'tgt.safetensors'), keys);
  return tmp.file(`${name}.tpmap`, `source ${JSON.stringify(path.join(dir, 'src.safetensors'))}\ntarget ${JSON.stringify(path.join(dir, 'tgt.safetensors'))}\n`
    + 'layers.{i}.weight -> layers.{i}.weight\n');
}

/**
 * In a fresh namespace: mounts the tmpfs on DIR, writes the previous output into it, converts onto it,
 * then prints the exit code, the previous output's sha256 and `ls -a DIR`. The CLI's stderr is the shell's.
 */
function convertOnFullDisk(mapping: string, mountOptions: string) {
  const dir = path.join(tmp.dir, `mnt-${path.basename(mapping, '.tpmap')}`);
  mkdirSync(dir);
  const out = path.join(dir, 'model.safetensors');
  const script = `mount -t tmpfs -o "$2" tmpfs "$1" || exit 90
printf '%s' "$5" > "$1/model.safetensors" || exit 91
"$3" "$4" convert "$6" -o "$1/model.safetensors" --force
echo "exit $?"
sha256sum "$1/model.safetensors"
ls -a "$1"`;
  const r = spawnSync('unshare', ['-rm', 'sh', '-c', script, 'sh', dir, mountOptions, process.execPath, BIN, OLD, mapping], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `the namespace script failed (${r.status}): ${r.stderr}`);
  const lines = r.stdout.split('\n').filter(Boolean);
  return { out, dir, stdout: lines, stderr: r.stderr };
}

const oldSha = createHash('sha256').update(OLD).digest('hex');

test('disk full while writing tensor data: exit 2, one line naming the output, old output byte-identical, no temporary file', (t) => {
  if (unavailable) return t.skip(unavailable);
  const { out, stdout, stderr } = convertOnFullDisk(mappingFor('data'), 'size=256k');
  assert.equal(stderr, `tensorport: ${out}: write failed: no space left on device; nothing was written\n`);
  assert.deepEqual(stdout, ['exit 2', `${oldSha}  ${out}`, '.', '..', 'model.safetensors']);
});

test('no inode left for the temporary file: exit 2, one line naming the output and the folder, old output untouched', (t) => {
  if (unavailable) return t.skip(unavailable);
  // Two inodes: the mount's root and the previous output. Creating the temporary file is what fails.
  const { out, dir, stdout, stderr } = convertOnFullDisk(mappingFor('inodes'), 'size=256k,nr_inodes=2');
  assert.equal(stderr, `tensorport: ${out}: cannot create a file in ${dir}: no space left on device\n`);
  assert.deepEqual(stdout, ['exit 2', `${oldSha}  ${out}`, '.', '..', 'model.safetensors']);
});

test('the same conversion with room to spare succeeds (the failure above is the full disk, not the mapping)', (t) => {
  if (unavailable) return t.skip(unavailable);
  const { out, stdout, stderr } = convertOnFullDisk(mappingFor('roomy'), 'size=4m');
  assert.equal(stderr, '');
  assert.match(stdout[0], new RegExp(`^wrote ${out.replace(/[.]/g, '\\.')}: 4 tensors, 1\\.0 MiB in \\d+\\.\\d s$`));
  assert.equal(stdout[1], 'exit 0');
  assert.notEqual(stdout[2], `${oldSha}  ${out}`);
  assert.deepEqual(stdout.slice(3), ['.', '..', 'model.safetensors']);
});
