/** Test support: a scratch folder per test file, removed at exit, and helpers to write odd files into it. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export function scratchDir(name: string): { dir: string; file: (rel: string, bytes: Buffer | string) => string } {
  const dir = mkdtempSync(path.join(tmpdir(), `tensorport-${name}-`));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    file(rel, bytes) {
      const p = path.join(dir, rel);
      writeFileSync(p, bytes);
      return p;
    },
  };
}

/** A safetensors file from a header object and a data buffer, exactly as written, flaws included. */
export function safetensorsBytes(header: unknown, data: Buffer | number = 0, lengthOverride?: bigint): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthOverride ?? BigInt(json.length));
  return Buffer.concat([len, json, typeof data === 'number' ? Buffer.alloc(data) : data]);
}

export const FIXTURES = path.join(__dirname, '..', 'fixtures');
/**
 * The worked examples of ../shared/examples, vendored so a clean clone tests them without the shared
 * folder; examples.test.ts checks the copy against the original wherever ../shared is present.
 */
export const EXAMPLES = path.join(FIXTURES, 'examples');
export const SHARED_EXAMPLES = path.join(__dirname, '..', '..', '..', 'shared', 'examples');
