/**
 * Open mapping documents and their analysis state. Each edit re-parses the text, reloads the sides
 * through the shared checkpoint index (cheap when nothing changed on disk) and re-analyses with the
 * document's rule cache, so only edited rules are checked again.
 */
import { CheckpointIndex } from '../index/checkpointIndex';
import { Analysis, RuleCache, analyzeMapping } from '../mapping/analyze';
import { parseMapping } from '../mapping/parse';
import { reparse } from '../mapping/reparse';
import { Sides, loadSides } from '../mapping/sides';
import { MappingFile } from '../mapping/syntax';

export interface MappingState {
  uri: string;
  path: string;
  version: number;
  file: MappingFile;
  sides: Sides;
  analysis: Analysis;
  /** Time spent in the last parse + analysis (not loading sides), for the log and the benchmark. */
  analysisMs: number;
}

export class MappingDocuments {
  private readonly states = new Map<string, MappingState>();
  private readonly caches = new Map<string, RuleCache>();
  private readonly latest = new Map<string, number>();
  /** The last tree per document, which the next edit re-parses incrementally (and consumes). */
  private readonly trees = new Map<string, MappingFile>();

  constructor(private readonly index: CheckpointIndex) {}

  get(uri: string): MappingState | undefined {
    return this.states.get(uri);
  }

  all(): MappingState[] {
    return [...this.states.values()];
  }

  close(uri: string): void {
    this.states.delete(uri);
    this.caches.delete(uri);
    this.latest.delete(uri);
    this.trees.delete(uri);
  }

  /** Analyses a version of a document; resolves undefined when a newer version overtook it meanwhile. */
  async update(uri: string, path: string, version: number, text: string, overlay?: ReadonlyMap<string, string>): Promise<MappingState | undefined> {
    this.latest.set(uri, version);
    const previous = this.trees.get(uri);
    const t0 = performance.now();
    const file = previous ? reparse(previous, text) : parseMapping(text);
    this.trees.set(uri, file);
    const parseMs = performance.now() - t0;
    const sides = await loadSides(path, file, this.index, { overlay });
    if (this.latest.get(uri) !== version) return undefined;
    let cache = this.caches.get(uri);
    if (!cache) this.caches.set(uri, (cache = new RuleCache()));
    const t1 = performance.now();
    const analysis = analyzeMapping(file, sides, cache);
    const state: MappingState = { uri, path, version, file, sides, analysis, analysisMs: parseMs + performance.now() - t1 };
    this.states.set(uri, state);
    return state;
  }
}
