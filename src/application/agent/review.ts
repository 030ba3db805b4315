/**
 * The self-review before a submit is accepted: the first `submit` of a run answers with the model's
 * whole change (the diff prwright is about to commit) and a checklist of what often slips into an
 * agent's pull request, and asks for a second `submit`. Reading its own diff catches stray scratch
 * files, debug prints and edited tests far more often than a model's memory of what it did.
 */
import type { Checkout } from "#application/ports/workspace.js"
import { changedPaths } from "../changed-paths.js"
import { fenceFor } from "./planning-prompt.js"
import { truncateMiddle } from "./truncate.js"

/** the diff shown in the review; the checklist after it must survive the tool output cap */
export const REVIEW_DIFF_CHARS = 14_000

export const REVIEW_CHECKLIST = [
  "Stray files: scripts, scratch or reproduction files, logs, build output you created that do not belong in the change (delete them with bash rm).",
  "Debug prints, commented-out code, leftover TODOs you added.",
  "Tests you were not asked to change: do not weaken, skip or delete existing tests to make them pass (adding a test for this fix is fine).",
  "Unrelated changes: reformatting, refactors, files the issue does not need.",
  "Did you run the tests after your last edit, and do they pass (or fail only as they did before your change)?",
]

export const reviewMessage = async (options: {
  checkout: Checkout
  editedPaths: readonly string[]
}): Promise<string> => {
  const changes = await options.checkout.status()
  const paths = changedPaths(changes, options.editedPaths)
  const intro =
    "Before this is submitted, review your change as a reviewer would. prwright will commit exactly what is shown here."
  const checklist = REVIEW_CHECKLIST.map((item, i) => `${i + 1}. ${item}`).join("\n")
  const outro =
    "Fix anything that needs it (with the editor or bash), then call submit again, with the same or a revised title and summary. The next submit ends the run; it is not reviewed again."
  if (paths.length === 0) {
    return `${intro}\n\nYou have not changed any file: the working tree is the same as the commit you started from. If the issue needs a change, make it now. If it truly needs none, say why in the summary of the next submit.\n\n${outro}`
  }
  const kinds = new Map(changes.map((change) => [change.path, change.kind]))
  const files = paths.map((path) => `- ${path} (${kinds.get(path) ?? "edited"})`).join("\n")
  const diff = (await options.checkout.diff(paths)).trimEnd()
  const shownDiff = diff.length > 0 ? truncateMiddle(diff, REVIEW_DIFF_CHARS) : "(git shows no difference)"
  const fence = fenceFor(shownDiff)
  return `${intro}\n\nFiles changed:\n${files}\n\nThe diff against the starting commit:\n${fence}diff\n${shownDiff}\n${fence}\n\nChecklist:\n${checklist}\n\n${outro}`
}
