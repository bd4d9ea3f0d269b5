// Compiles server/src/mapping/convert/transpose.wat (wabt, a devDependency) into transposeWasm.ts, the
// bytes as base64 — one module for the bundle and for tests run from source alike. esbuild.mjs calls it
// on every build; test/unit/transpose-kernel.test.ts checks the committed file is current.
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import wabt from 'wabt';

export const WAT = 'server/src/mapping/convert/transpose.wat';
export const OUT = 'server/src/mapping/convert/transposeWasm.ts';

export async function transposeWasmSource(root = '.') {
  const w = await wabt();
  // Shared memory needs the threads feature; wabt's own validator rejects shared memories even so, and
  // V8 validates the module when it is compiled.
  const mod = w.parseWat('transpose.wat', readFileSync(`${root}/${WAT}`, 'utf8'), { simd: true, threads: true });
  try {
    const { buffer } = mod.toBinary({});
    return `// Generated from transpose.wat by .ci/transpose-wasm.mjs (run by \`npm run build\`); do not edit.\n`
      + `export const TRANSPOSE_WASM = '${Buffer.from(buffer).toString('base64')}';\n`;
  } finally {
    mod.destroy();
  }
}
