// Compiles server/src/mapping/convert/simd.wat (wabt, a devDependency) into simdWasm.ts, the
// bytes as base64 — one module for the bundle and for tests run from source alike. esbuild.mjs calls it
// on every build; test/unit/simd-kernels.test.ts checks the committed file is current.
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import wabt from 'wabt';

export const WAT = 'server/src/mapping/convert/simd.wat';
export const OUT = 'server/src/mapping/convert/simdWasm.ts';

export async function simdWasmSource(root = '.') {
  const w = await wabt();
  // Shared memory needs the threads feature; wabt's own validator rejects shared memories even so, and
  // V8 validates the module when it is compiled.
  const mod = w.parseWat('simd.wat', readFileSync(`${root}/${WAT}`, 'utf8'), { simd: true, threads: true });
  try {
    const { buffer } = mod.toBinary({});
    return `// Generated from simd.wat by .ci/simd-wasm.mjs (run by \`npm run build\`); do not edit.\n`
      + `export const SIMD_WASM = '${Buffer.from(buffer).toString('base64')}';\n`;
  } finally {
    mod.destroy();
  }
}
