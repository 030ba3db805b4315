/**
 * A small real repository for agent tests: node:test runner, no dependencies, and one failing
 * test that the issue describes (clamp() ignores its upper bound).
 */
export const SAMPLE_FILES: Record<string, string> = {
  "package.json": `${JSON.stringify({ name: "mathlib", version: "1.0.0", type: "module", scripts: { test: "node --test" } }, null, 2)}\n`,
  "src/math.js": [
    "export function add(a, b) {",
    "  return a + b",
    "}",
    "",
    "export function clamp(value, low, high) {",
    "  return Math.max(low, value)",
    "}",
    "",
  ].join("\n"),
  "test/math.test.js": [
    'import { test } from "node:test"',
    'import assert from "node:assert/strict"',
    'import { add, clamp } from "../src/math.js"',
    "",
    'test("add adds", () => {',
    "  assert.equal(add(2, 3), 5)",
    "})",
    "",
    'test("clamp keeps values above the low bound", () => {',
    "  assert.equal(clamp(-5, 0, 10), 0)",
    "})",
    "",
    'test("clamp caps values at the high bound", () => {',
    "  assert.equal(clamp(50, 0, 10), 10)",
    "})",
    "",
  ].join("\n"),
  "README.md": "# mathlib\n\nTiny math helpers.\n",
}

export const SAMPLE_ISSUE = {
  title: "clamp() ignores the upper bound",
  body: "`clamp(50, 0, 10)` returns 50; it should return 10. The test `clamp caps values at the high bound` fails.",
}

export const FIXED_LINE_OLD = "  return Math.max(low, value)"
export const FIXED_LINE_NEW = "  return Math.min(high, Math.max(low, value))"

/** The scripted model's steps for planning (auto-resolve plans first) and fixing the bug. */
export const planSteps = () => [
  {
    toolCalls: [{ name: "str_replace_based_edit_tool", arguments: { command: "view", path: "src/math.js" } }],
  },
  {
    toolCalls: [
      {
        name: "submit_plan",
        arguments: { plan: "1. Make clamp() apply the high bound in src/math.js\n2. Run the tests" },
      },
    ],
  },
]

export const fixSteps = () => [
  { toolCalls: [{ name: "bash", arguments: { command: "npm test" } }] },
  {
    toolCalls: [{ name: "str_replace_based_edit_tool", arguments: { command: "view", path: "src/math.js" } }],
  },
  {
    toolCalls: [
      {
        name: "str_replace_based_edit_tool",
        arguments: {
          command: "str_replace",
          path: "src/math.js",
          old_str: FIXED_LINE_OLD,
          new_str: FIXED_LINE_NEW,
        },
      },
    ],
  },
  { toolCalls: [{ name: "bash", arguments: { command: "npm test" } }] },
  {
    toolCalls: [
      {
        name: "submit",
        arguments: { title: "Make clamp() respect the upper bound", summary: "clamp() now caps at `high`." },
      },
    ],
  },
  // the review turn shows the diff; the model confirms
  {
    toolCalls: [
      {
        name: "submit",
        arguments: { title: "Make clamp() respect the upper bound", summary: "clamp() now caps at `high`." },
      },
    ],
  },
]
