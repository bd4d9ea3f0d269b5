/**
 * Lookup tables and dictionaries keyed by strings a file controls (dtype names, op types, tensor-name
 * segments, metadata keys). Built without a prototype, so a key named `constructor`, `toString` or
 * `__proto__` is a missing key or an ordinary one — never Object's function, never a prototype write.
 */

/** A constant table: frozen, no prototype. */
export function table<T>(entries: { [key: string]: T }): Readonly<Record<string, T>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
}

/** An empty dictionary to fill with keys from a file. */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/**
 * Sets an own property even for the key `__proto__` (which plain assignment turns into a prototype
 * change), for plain objects filled with keys from a file and sent on as JSON.
 */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A lookup that sees only own keys: `toString` is not a key of `{}`. */
export function getOwn<T>(obj: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return obj !== undefined && Object.hasOwn(obj, key) ? obj[key] : undefined;
}
