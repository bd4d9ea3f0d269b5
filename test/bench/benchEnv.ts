/**
 * Bench support: what every bench prints with its numbers (date, node, cores, /proc/loadavg before and
 * after — a number on a loaded 2-core machine is not one on a quiet one) and the tiny mode the smoke test
 * (test/unit/bench-smoke.test.ts) runs each bench in, so that none rots between measurements.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** TENSORPORT_BENCH_TINY=1: inputs small enough that the bench runs in seconds; its numbers mean nothing. */
export const TINY = process.env.TENSORPORT_BENCH_TINY === '1';

/** The full-size value, or the tiny one in tiny mode. */
export const size = <T>(full: T, tiny: T): T => (TINY ? tiny : full);

export function loadavg(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a (no /proc/loadavg)';
  }
}

/** One line to print before the numbers: when, where, on what load. */
export function benchHeader(): string {
  return `${new Date().toISOString().slice(0, 10)}; node ${process.version}; ${availableParallelism()} cores; loadavg ${loadavg()}${TINY ? '; TINY MODE (numbers mean nothing)' : ''}`;
}

/** One line to print after the numbers. */
export function benchFooter(): string {
  return `loadavg after: ${loadavg()}`;
}
