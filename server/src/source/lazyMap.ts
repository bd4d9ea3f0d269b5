/**
 * A Map whose values are made on first access: names are known from the block scan, definitions are
 * parsed when the interpreter (or anything else) asks for them. Iterating values makes them all.
 */
export class LazyMap<V> extends Map<string, V> {
  private readonly pending = new Map<string, () => V | undefined>();
  /** Every name in the file's order, made or not. */
  private readonly order: string[] = [];

  later(name: string, make: () => V | undefined): void {
    super.delete(name);
    if (!this.pending.has(name)) this.order.push(name);
    this.pending.set(name, make);
  }

  private make(name: string): void {
    const f = this.pending.get(name);
    if (!f) return;
    this.pending.delete(name);
    const v = f();
    if (v !== undefined) super.set(name, v);
  }

  override get(name: string): V | undefined { this.make(name); return super.get(name); }

  override has(name: string): boolean { return this.pending.has(name) || super.has(name); }

  override get size(): number { return super.size + this.pending.size; }

  override keys(): MapIterator<string> { return [...new Set([...this.order, ...super.keys()])].filter((k) => this.has(k))[Symbol.iterator]() as MapIterator<string>; }

  private all(): void { for (const name of [...this.pending.keys()]) this.make(name); }

  override values(): MapIterator<V> { this.all(); return [...this.keys()].map((k) => super.get(k)!)[Symbol.iterator]() as MapIterator<V>; }

  override entries(): MapIterator<[string, V]> { this.all(); return [...this.keys()].map((k): [string, V] => [k, super.get(k)!])[Symbol.iterator]() as MapIterator<[string, V]>; }

  override [Symbol.iterator](): MapIterator<[string, V]> { return this.entries(); }

  override forEach(cb: (v: V, k: string, m: Map<string, V>) => void, thisArg?: unknown): void { this.all(); super.forEach(cb, thisArg); }
}
