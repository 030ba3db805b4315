/** Per-run host directories for sandboxed commands: one HOME and one /tmp that last the whole run. */

export interface RunDirs {
  /** host path bound as the sandbox's HOME in every phase of the run (tool caches, a venv) */
  readonly home: string
  /** host path bound as the sandbox's /tmp (repro scripts, test reports) */
  readonly tmp: string
  /**
   * A regular file directly in `tmp` (no directory part), read without following symlinks and
   * refused when larger than maxBytes or not a regular file; undefined when it is not there.
   */
  readTmpFile(name: string, maxBytes: number): Promise<string | undefined>
  /** removes a file directly in `tmp` if present (never follows a symlink) */
  removeTmpFile(name: string): Promise<void>
  /** removes both directories and everything in them */
  dispose(): Promise<void>
}

/** Makes the directories of one run attempt, outside any checkout. */
export type MakeRunDirs = (runId: string) => Promise<RunDirs>
