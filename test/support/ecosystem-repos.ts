/**
 * One small real repository per ecosystem, each with a real dependency from its registry and the
 * same bug (clamp ignores its upper bound), and the scripted model's fix: edit the code, add a test
 * that reproduces the bug, run the tests offline, submit. No `.prwright.yml`: setup and test
 * commands are detected.
 */
import type { ScriptStep } from "../doubles/scripted-model-server.js"
import { bash, editor, submitTwice } from "./resolve-harness.js"

export interface EcosystemCase {
  name: string
  /** the toolchain commands that must exist for the case to run */
  needs: string[]
  /** a shell check the toolchain must pass besides (e.g. Debian's python3 without its venv module) */
  probe?: { command: string; missing: string }
  files: Record<string, string>
  script: ScriptStep[]
  /** what the pushed branch changes, sorted */
  changed: string[]
  /** the test the proof table must show as failing before and passing after */
  proofTest: RegExp
}

const ISSUE_FIX = "the upper bound is ignored"

export const ECOSYSTEM_ISSUE = {
  title: "clamp ignores the upper bound",
  body: "clamp(50, 0, 10) returns 50; it should return 10. Please fix it and add a test.",
}

const fix = (path: string, oldStr: string, newStr: string, test: ScriptStep[], testCommand: string) => [
  editor({ command: "str_replace", path, old_str: oldStr, new_str: newStr }),
  ...test,
  bash(testCommand, 300),
  ...submitTwice("Make clamp respect the upper bound", `Fixed: ${ISSUE_FIX}.`),
]

const create = (path: string, text: string): ScriptStep =>
  editor({ command: "create", path, file_text: text })

export const PYTHON: EcosystemCase = {
  name: "Python (pip into a venv, six from PyPI, pytest)",
  needs: ["python3"],
  probe: {
    command: "python3 -c 'import ensurepip, venv'",
    missing: "python3's venv/ensurepip (Debian: python3-venv)",
  },
  files: {
    "requirements.txt": "six==1.16.0\n",
    "textops.py":
      "import six\n\n\ndef label(value):\n    return six.text_type(value)\n\n\ndef clamp(value, low, high):\n    return max(low, value)\n",
    "tests/test_textops.py":
      "from textops import clamp, label\n\n\ndef test_label():\n    assert label(3) == '3'\n\n\ndef test_clamp_low():\n    assert clamp(-5, 0, 10) == 0\n",
  },
  script: fix(
    "textops.py",
    "    return max(low, value)",
    "    return min(high, max(low, value))",
    [
      // a test added to the existing file: an addition, not an edit of existing tests
      editor({
        command: "insert",
        path: "tests/test_textops.py",
        insert_line: 9,
        new_str: "\n\ndef test_clamp_high():\n    assert clamp(50, 0, 10) == 10\n",
      }),
    ],
    "python -m pytest -q",
  ),
  changed: ["tests/test_textops.py", "textops.py"],
  // names from pytest's JUnit report, not from the printed output
  proofTest: /tests\.test_textops::test_clamp_high/,
}

export const GO: EcosystemCase = {
  name: "Go (go mod download, github.com/google/go-cmp)",
  needs: ["go"],
  files: {
    "go.mod": "module example.com/clamp\n\ngo 1.21\n\nrequire github.com/google/go-cmp v0.6.0\n",
    "go.sum":
      "github.com/google/go-cmp v0.6.0 h1:ofyhxvXcZhMsU5ulbFiLKl/XBFqE1GSq7atu8tAmTRI=\ngithub.com/google/go-cmp v0.6.0/go.mod h1:17dUlkBOakJ0+DkrSSNjCkIjxS6bF9zb3elmeNGIjoY=\n",
    "clamp.go":
      'package clamp\n\nimport "github.com/google/go-cmp/cmp"\n\n// Clamp limits v to [lo, hi].\nfunc Clamp(v, lo, hi int) int {\n\tif v < lo {\n\t\treturn lo\n\t}\n\treturn v\n}\n\n// Same reports whether two slices are equal.\nfunc Same(a, b []int) bool { return cmp.Equal(a, b) }\n',
    "clamp_test.go":
      'package clamp\n\nimport "testing"\n\nfunc TestSame(t *testing.T) {\n\tif !Same([]int{1}, []int{1}) {\n\t\tt.Fatal("not same")\n\t}\n}\n',
  },
  script: fix(
    "clamp.go",
    "\treturn v\n}",
    "\tif v > hi {\n\t\treturn hi\n\t}\n\treturn v\n}",
    [
      create(
        "clamp_high_test.go",
        'package clamp\n\nimport "testing"\n\nfunc TestClampHigh(t *testing.T) {\n\tif got := Clamp(50, 0, 10); got != 10 {\n\t\tt.Fatalf("Clamp(50, 0, 10) = %d", got)\n\t}\n}\n',
      ),
    ],
    "go test ./...",
  ),
  changed: ["clamp.go", "clamp_high_test.go"],
  proofTest: /TestClampHigh/,
}

export const RUST: EcosystemCase = {
  name: "Rust (cargo fetch, the itoa crate)",
  needs: ["cargo"],
  files: {
    "Cargo.toml":
      '[package]\nname = "clamp"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nitoa = "1"\n',
    "src/lib.rs":
      "pub fn clamp(value: i64, low: i64, high: i64) -> i64 {\n    let _ = high;\n    value.max(low)\n}\n\npub fn label(value: i64) -> String {\n    itoa::Buffer::new().format(value).to_string()\n}\n",
    "tests/label.rs": '#[test]\nfn labels() {\n    assert_eq!(clamp::label(3), "3");\n}\n',
  },
  script: fix(
    "src/lib.rs",
    "    let _ = high;\n    value.max(low)",
    "    value.max(low).min(high)",
    [
      create(
        "tests/clamp_high.rs",
        "#[test]\nfn caps_high() {\n    assert_eq!(clamp::clamp(50, 0, 10), 10);\n}\n",
      ),
    ],
    "cargo test",
  ),
  changed: ["src/lib.rs", "tests/clamp_high.rs"],
  proofTest: /caps_high/,
}

const POM = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>clamp</artifactId>
  <version>1.0.0</version>
  <properties>
    <maven.compiler.source>17</maven.compiler.source>
    <maven.compiler.target>17</maven.compiler.target>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
    <dependency>
      <groupId>junit</groupId>
      <artifactId>junit</artifactId>
      <version>4.13.2</version>
      <scope>test</scope>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin><artifactId>maven-surefire-plugin</artifactId><version>3.2.5</version></plugin>
    </plugins>
  </build>
</project>
`

export const MAVEN: EcosystemCase = {
  name: "Java with Maven (dependency:go-offline, junit 4)",
  needs: ["mvn", "java"],
  files: {
    "pom.xml": POM,
    "src/main/java/com/example/Clamp.java":
      "package com.example;\n\npublic final class Clamp {\n  private Clamp() {}\n\n  public static int clamp(int value, int low, int high) {\n    return Math.max(low, value);\n  }\n}\n",
    "src/test/java/com/example/ClampTest.java":
      "package com.example;\n\nimport static org.junit.Assert.assertEquals;\n\nimport org.junit.Test;\n\npublic class ClampTest {\n  @Test\n  public void keepsValuesAboveLow() {\n    assertEquals(0, Clamp.clamp(-5, 0, 10));\n  }\n}\n",
  },
  script: fix(
    "src/main/java/com/example/Clamp.java",
    "return Math.max(low, value);",
    "return Math.min(high, Math.max(low, value));",
    [
      create(
        "src/test/java/com/example/ClampHighTest.java",
        "package com.example;\n\nimport static org.junit.Assert.assertEquals;\n\nimport org.junit.Test;\n\npublic class ClampHighTest {\n  @Test\n  public void capsHigh() {\n    assertEquals(10, Clamp.clamp(50, 0, 10));\n  }\n}\n",
      ),
    ],
    "mvn -B -o -q test",
  ),
  changed: ["src/main/java/com/example/Clamp.java", "src/test/java/com/example/ClampHighTest.java"],
  // names from surefire's XML report, not from the printed output
  proofTest: /com\.example\.ClampHighTest::capsHigh/,
}

export const NODE: EcosystemCase = {
  name: "Node (npm install, ms from npm, node --test)",
  needs: ["node", "npm"],
  files: {
    "package.json": `${JSON.stringify(
      {
        name: "clamp",
        version: "1.0.0",
        type: "module",
        scripts: { test: "node --test" },
        dependencies: { ms: "2.1.3" },
      },
      null,
      2,
    )}\n`,
    "src/clamp.js":
      'import ms from "ms"\n\nexport const seconds = (text) => ms(text) / 1000\n\nexport function clamp(value, low, high) {\n  return Math.max(low, value)\n}\n',
    "test/seconds.test.js":
      'import { test } from "node:test"\nimport assert from "node:assert/strict"\nimport { seconds } from "../src/clamp.js"\n\ntest("seconds reads ms strings", () => {\n  assert.equal(seconds("2s"), 2)\n})\n',
  },
  script: fix(
    "src/clamp.js",
    "  return Math.max(low, value)",
    "  return Math.min(high, Math.max(low, value))",
    [
      create(
        "test/clamp-high.test.js",
        'import { test } from "node:test"\nimport assert from "node:assert/strict"\nimport { clamp } from "../src/clamp.js"\n\ntest("clamp caps values at the high bound", () => {\n  assert.equal(clamp(50, 0, 10), 10)\n})\n',
      ),
    ],
    "npm test",
  ),
  changed: ["src/clamp.js", "test/clamp-high.test.js"],
  proofTest: /clamp caps values at the high bound/,
}

export const RUBY: EcosystemCase = {
  name: "Ruby (bundle install, rake and minitest from RubyGems)",
  needs: ["ruby", "bundle"],
  files: {
    Gemfile: 'source "https://rubygems.org"\n\ngem "rake"\ngem "minitest"\n',
    Rakefile:
      'require "rake/testtask"\n\nRake::TestTask.new(:test) do |t|\n  t.libs << "lib" << "test"\n  t.pattern = "test/**/*_test.rb"\nend\n\ntask default: :test\n',
    "lib/clamp.rb": "module Clamp\n  def self.clamp(value, low, high)\n    [low, value].max\n  end\nend\n",
    "test/low_test.rb":
      'require "minitest/autorun"\nrequire "clamp"\n\nclass LowTest < Minitest::Test\n  def test_keeps_low\n    assert_equal 0, Clamp.clamp(-5, 0, 10)\n  end\nend\n',
  },
  script: fix(
    "lib/clamp.rb",
    "    [low, value].max",
    "    [[low, value].max, high].min",
    [
      create(
        "test/clamp_high_test.rb",
        'require "minitest/autorun"\nrequire "clamp"\n\nclass ClampHighTest < Minitest::Test\n  def test_caps_high\n    assert_equal 10, Clamp.clamp(50, 0, 10)\n  end\nend\n',
      ),
    ],
    "bundle exec rake test",
  ),
  changed: ["lib/clamp.rb", "test/clamp_high_test.rb"],
  proofTest: /ClampHighTest#test_caps_high/,
}

export const ECOSYSTEMS = [NODE, PYTHON, GO, RUST, MAVEN, RUBY]
