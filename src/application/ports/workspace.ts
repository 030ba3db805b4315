/** Working copies of repositories: checkouts confined to their root. */
import type { RepoRef } from "#domain/repo-ref.js"

export interface SearchQuery {
  pattern: string
  /** relative to the checkout root */
  path?: string | undefined
  glob?: string | undefined
  caseSensitive?: boolean | undefined
  maxResults: number
}

export interface SearchResult {
  matches: Array<{ path: string; line: number; text: string }>
  /** all matches found, including those beyond maxResults */
  total: number
}

export interface DirEntry {
  /** relative to the checkout root, '/'-separated; directories end with '/' */
  path: string
  kind: "file" | "dir"
}

/**
 * A run's working copy. Every path is relative to the checkout and confined to it: `..`, absolute
 * paths and symlinks that lead outside are refused with a ValidationError.
 */
export interface Checkout {
  /** absolute path on the worker's disk (never shown to the model) */
  readonly root: string
  readonly headSha: string
  readonly ref: string
  /** the commit of `ref` at checkout; differs from headSha when the branch carried earlier work */
  readonly baseSha: string
  /** the checkout's git metadata on the host, recorded when the checkout was made (for the sandbox) */
  readonly mounts: CheckoutMounts
  /** undefined when missing; a FIFO, socket or device is refused (ValidationError), never opened */
  stat(path: string): Promise<{ kind: "file" | "dir"; size: number } | undefined>
  /** regular files only, opened without following a final symlink and without blocking; size-capped */
  readFile(path: string): Promise<string>
  /** entries below `path`, up to `depth` levels, skipping .git and ignored files */
  listDir(path: string, depth: number): Promise<DirEntry[]>
  search(query: SearchQuery): Promise<SearchResult>
  /** creates or replaces a file (parents created); same confinement as reads */
  writeFile(path: string, content: string): Promise<void>
  /** files that differ from HEAD in the working tree (tracked changes and untracked, not ignored) */
  status(): Promise<FileChange[]>
  /** unified diff of the working tree against HEAD for `paths` (all changes when omitted), new files included */
  diff(paths?: string[]): Promise<string>
  /**
   * Stages exactly `paths` (additions, edits and deletions) and commits them on the current branch.
   * Returns the new commit sha, or undefined when those paths hold no change.
   */
  commit(options: {
    message: string
    paths: string[]
    author: { name: string; email: string }
  }): Promise<string | undefined>
  /** pushes the current branch to `branch` on the remote (token in a header, as for fetches) */
  push(options: {
    branch: string
    force?: boolean | undefined
    signal?: AbortSignal | undefined
  }): Promise<void>
  /** files that differ between baseSha and the current HEAD (what the branch's commits change) */
  committedChanges(): Promise<FileChange[]>
  /**
   * Removes the working copy. With keepForInspection (a failed run), the files stay on disk with
   * the branch released, until the workspace's retention time removes them.
   */
  dispose(options?: { keepForInspection?: boolean }): Promise<void>
}

/**
 * Host paths a sandboxed command in a checkout may see besides the checkout itself, from the
 * workspace's own records. A command that rewrites `<checkout>/.git` changes nothing here.
 */
export interface CheckoutMounts {
  /** mounted read-only at the same path (e.g. the mirror's objects and refs) */
  readOnly: string[]
  /** mounted read-write at the same path (e.g. this worktree's own git dir, for its index) */
  writable: string[]
}

export interface FileChange {
  path: string
  kind: "added" | "modified" | "deleted"
}

export interface Workspace {
  /** Updates the repository's mirror and makes a fresh working copy of `ref` for this run. */
  checkout(options: {
    repo: RepoRef
    cloneUrl: string
    ref: string
    runId: string
    /**
     * Work on this local branch: it starts from the remote branch of that name when one exists
     * (an earlier attempt's work in progress), else from `ref`. Without it the checkout is detached.
     */
    branch?: string | undefined
    signal?: AbortSignal | undefined
  }): Promise<Checkout>
}
