/**
 * The Hugging Face hub's file layouts, by path alone (no imports: the client bundles fileKinds, which
 * asks this module about unfinished downloads).
 *
 * - The hub cache: `models--org--name/snapshots/<revision>/<file>` is a symlink to `../../blobs/<etag>`;
 *   a file shared by two revisions is one blob. While a file downloads it is
 *   `blobs/<etag>.<8 hex>.incomplete` (huggingface_hub ≥ 1.x; `blobs/<etag>.incomplete` before), and the
 *   snapshot's symlink appears only once it is complete.
 * - `hf download --local-dir D`: the file goes to `D/<file>`, and while it downloads it is
 *   `D/.cache/huggingface/download/<dirs>/<short hash>.<etag>[.<8 hex>].incomplete`.
 */

export interface HubSnapshotFile {
  /** `org/name` (`name` for repos without an owner). */
  repo: string;
  kind: 'model' | 'dataset' | 'space';
  revision: string;
  /** The repo folder (`…/models--org--name`): its `refs/` name the revisions branches point at. */
  repoDir: string;
  /** The file's path inside the revision. */
  file: string;
}

const REPO_DIR = /^(models|datasets|spaces)--(.+)$/;
const KIND = { models: 'model', datasets: 'dataset', spaces: 'space' } as const;

function parts(p: string): string[] {
  return p.split(/[\\/]/);
}

function repoOf(dirName: string): { repo: string; kind: HubSnapshotFile['kind'] } | undefined {
  const m = REPO_DIR.exec(dirName);
  return m ? { repo: m[2].split('--').join('/'), kind: KIND[m[1] as keyof typeof KIND] } : undefined;
}

/** The snapshot a hub-cache path belongs to, or undefined when it is not under `…--…/snapshots/<rev>/`. */
export function hubSnapshotFile(p: string): HubSnapshotFile | undefined {
  const xs = parts(p);
  for (let i = xs.length - 4; i >= 0; i--) {
    if (xs[i + 1] !== 'snapshots') continue;
    const repo = repoOf(xs[i]);
    if (!repo) continue;
    return { ...repo, revision: xs[i + 2], repoDir: xs.slice(0, i + 1).join('/'), file: xs.slice(i + 3).join('/') };
  }
  return undefined;
}

/** How a snapshot file is named to the user: `org/name@86b5e09/model.safetensors`, not 40 hex digits deep. */
export function hubDisplayName(s: HubSnapshotFile): string {
  return `${s.repo}@${s.revision.slice(0, 7)}/${s.file}`;
}

export interface UnfinishedDownload {
  /** The repo, when the path says it (the hub cache); a `--local-dir` download does not. */
  repo?: string;
  kind?: HubSnapshotFile['kind'];
  /** The folder `hf download --local-dir` was given, for a local-dir download. */
  localDir?: string;
}

/** A partial Hugging Face download: `.incomplete` in a hub cache's `blobs/` or a local dir's download cache. */
export function unfinishedDownload(p: string): UnfinishedDownload | undefined {
  const xs = parts(p);
  const name = xs[xs.length - 1];
  if (!name.endsWith('.incomplete')) return undefined;
  if (xs.length >= 3 && xs[xs.length - 2] === 'blobs') {
    const repo = repoOf(xs[xs.length - 3]);
    if (repo) return repo;
  }
  for (let i = xs.length - 4; i >= 0; i--) {
    if (xs[i] === '.cache' && xs[i + 1] === 'huggingface' && xs[i + 2] === 'download') return { localDir: xs.slice(0, i).join('/') || '/' };
  }
  return undefined;
}

/** The one line said about a partial download: what it is, how far it got, what to run. */
export function unfinishedDownloadReason(d: UnfinishedDownload, bytesSoFar: string): string {
  const flag = d.kind && d.kind !== 'model' ? ` --repo-type ${d.kind}` : '';
  const rerun = d.repo ? `\`hf download ${d.repo}${flag}\`` : `the same \`hf download … --local-dir ${d.localDir ?? '…'}\``;
  return `an unfinished Hugging Face download${d.repo ? ` of ${d.repo}` : ''} (${bytesSoFar} so far), not a checkpoint yet: run ${rerun} again to finish it, or delete the file`;
}
