/**
 * A real Neo4j Community server for the tests, started at most once per test run and shared by every
 * test file that needs it (vitest workers are separate processes: the first one to ask starts it under
 * a lock directory, the others wait for its address). Its jars come from Maven Central through `mvn`
 * (test/support/neo4j/pom.xml), cached in ~/.m2 with the compiled launcher, so only the first run on a
 * machine downloads anything. The server exits when the test run's main process does (the launcher
 * watches its pid), and test/support/global-setup.ts stops it at the end of the run.
 *
 * TEST_NEO4J_URI (bolt://… of a THROWAWAY database) uses an existing server instead.
 */
import { execFile, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync } from "node:fs"
import { mkdir, open, readFile, rm, writeFile } from "node:fs/promises"
import net from "node:net"
import { homedir, tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

const run = promisify(execFile)
const here = path.dirname(fileURLToPath(import.meta.url))
const projectDir = path.join(here, "neo4j")
const START_TIMEOUT_MS = 240_000

export interface Neo4jServer {
  uri: string
  pid?: number | undefined
}

/** The directory one test run's server is recorded in (the run's main process id names it). */
export const neo4jStateDir = (runId = process.env.PRWRIGHT_TEST_RUN_ID ?? String(process.pid)) =>
  path.join(tmpdir(), `prwright-neo4j-${runId}`)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const has = async (command: string) =>
  run("sh", ["-c", `command -v ${command}`]).then(
    () => true,
    () => false,
  )

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

export const boltReachable = (uri: string, timeoutMs = 1000) => {
  const url = new URL(uri)
  return new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port || 7687) })
    socket.setTimeout(timeoutMs)
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("timeout", () => {
      socket.destroy()
      resolve(false)
    })
    socket.once("error", () => resolve(false))
  })
}

/** Resolves the Neo4j jars (Maven, cached) and compiles the launcher; returns the java classpath. */
const prepareLauncher = async (): Promise<string> => {
  const pom = await readFile(path.join(projectDir, "pom.xml"))
  const source = await readFile(path.join(projectDir, "Neo4jLauncher.java"))
  const key = createHash("sha256").update(pom).update(source).digest("hex").slice(0, 12)
  const cacheDir = path.join(homedir(), ".m2", "prwright-neo4j", key)
  const classpathFile = path.join(cacheDir, "classpath.txt")
  const classes = path.join(cacheDir, "classes")
  const cached = existsSync(classpathFile) ? (await readFile(classpathFile, "utf8")).trim() : ""
  if (
    cached.length > 0 &&
    cached.split(path.delimiter).every((jar) => existsSync(jar)) &&
    existsSync(path.join(classes, "Neo4jLauncher.class"))
  ) {
    return `${classes}${path.delimiter}${cached}`
  }
  await mkdir(classes, { recursive: true })
  await run(
    "mvn",
    [
      "-q",
      "-B",
      "-f",
      path.join(projectDir, "pom.xml"),
      "dependency:build-classpath",
      `-Dmdep.outputFile=${classpathFile}`,
    ],
    { timeout: START_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
  )
  const classpath = (await readFile(classpathFile, "utf8")).trim()
  await run("javac", ["-cp", classpath, "-d", classes, path.join(projectDir, "Neo4jLauncher.java")], {
    timeout: 120_000,
  })
  return `${classes}${path.delimiter}${classpath}`
}

const startServer = async (stateDir: string, watchPid: string): Promise<Neo4jServer> => {
  const classpath = await prepareLauncher()
  const port = await freePort()
  const logPath = path.join(stateDir, "neo4j.log")
  const log = await open(logPath, "w")
  const child = spawn(
    "nice",
    [
      "java",
      "-Xmx512m",
      "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1",
      "-cp",
      classpath,
      "Neo4jLauncher",
      String(port),
      path.join(stateDir, "home"),
      watchPid,
    ],
    { detached: true, stdio: ["ignore", log.fd, log.fd] },
  )
  child.unref()
  await log.close()
  let exited: number | null = null
  child.once("exit", (code) => {
    exited = code ?? -1
  })
  const deadline = Date.now() + START_TIMEOUT_MS
  const uri = `bolt://127.0.0.1:${port}`
  while (Date.now() < deadline) {
    const output = await readFile(logPath, "utf8").catch(() => "")
    if (output.includes("READY ") && (await boltReachable(uri))) return { uri, pid: child.pid }
    if (exited !== null) throw new Error(`Neo4j exited with ${exited}:\n${output.slice(-2000)}`)
    await sleep(250)
  }
  if (child.pid) process.kill(child.pid, "SIGKILL")
  throw new Error(`Neo4j did not start within ${START_TIMEOUT_MS / 1000} s (log: ${logPath})`)
}

/**
 * The shared server of this test run, started on first use. Throws with the reason when it cannot
 * be started (no java/javac/mvn, Maven Central unreachable, the server failing).
 */
export const sharedNeo4j = async (): Promise<Neo4jServer> => {
  const given = process.env.TEST_NEO4J_URI
  if (given) {
    if (!(await boltReachable(given))) throw new Error(`TEST_NEO4J_URI=${given} is not reachable`)
    return { uri: given }
  }
  for (const tool of ["java", "javac", "mvn"]) {
    if (!(await has(tool)))
      throw new Error(
        `${tool} is not installed (Neo4j runs from Maven Central jars): apt-get install openjdk-17-jdk-headless maven`,
      )
  }
  const runId = process.env.PRWRIGHT_TEST_RUN_ID ?? String(process.pid)
  const stateDir = neo4jStateDir(runId)
  const recorded = path.join(stateDir, "server.json")
  const failed = path.join(stateDir, "failed.txt")
  await mkdir(stateDir, { recursive: true })
  const starter = await mkdir(path.join(stateDir, "lock")).then(
    () => true,
    () => false,
  )
  if (starter) {
    try {
      const server = await startServer(stateDir, runId)
      await writeFile(recorded, JSON.stringify(server))
      return server
    } catch (error) {
      await writeFile(failed, String((error as Error).message))
      throw error
    }
  }
  const deadline = Date.now() + START_TIMEOUT_MS + 10_000
  while (Date.now() < deadline) {
    if (existsSync(recorded)) return JSON.parse(await readFile(recorded, "utf8")) as Neo4jServer
    if (existsSync(failed)) throw new Error(await readFile(failed, "utf8"))
    await sleep(250)
  }
  throw new Error("timed out waiting for another test file to start Neo4j")
}

/** Stops the run's server (global teardown). */
export const stopSharedNeo4j = async (runId: string) => {
  const stateDir = neo4jStateDir(runId)
  const recorded = path.join(stateDir, "server.json")
  if (existsSync(recorded)) {
    const { pid } = JSON.parse(await readFile(recorded, "utf8")) as Neo4jServer
    if (pid) {
      try {
        process.kill(pid, "SIGTERM")
        for (let i = 0; i < 100; i++) {
          process.kill(pid, 0)
          await sleep(100)
        }
        process.kill(pid, "SIGKILL")
      } catch {
        // gone
      }
    }
  }
  await rm(stateDir, { recursive: true, force: true })
}

/**
 * Community edition has one user database, so test files that wipe or count its nodes take turns:
 * holds the run's Neo4j lease until the returned release is called.
 */
export const holdNeo4j = async (timeoutMs = 180_000): Promise<() => Promise<void>> => {
  const lease = path.join(neo4jStateDir(), "in-use")
  await mkdir(path.dirname(lease), { recursive: true })
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const held = await mkdir(lease).then(
      () => true,
      () => false,
    )
    if (held) return () => rm(lease, { recursive: true, force: true })
    if (Date.now() > deadline) throw new Error(`another test file held Neo4j for over ${timeoutMs} ms`)
    await sleep(200)
  }
}

/** Deletes every prwright node (hold the lease first: see holdNeo4j). */
export const wipeNeo4j = async (
  uri: string,
  credentials: { user?: string; password?: string; database?: string } = {},
) => {
  const { default: neo4j } = await import("neo4j-driver")
  const driver = neo4j.driver(
    uri,
    credentials.user || credentials.password
      ? neo4j.auth.basic(credentials.user ?? "neo4j", credentials.password ?? "")
      : undefined,
  )
  try {
    await driver.executeQuery(
      `MATCH (n) WHERE any(label IN labels(n) WHERE label IN $labels) DETACH DELETE n`,
      {
        labels: [
          "Run",
          "Event",
          "Issue",
          "Repository",
          "User",
          "Plan",
          "ApiToken",
          "WebhookDelivery",
          "Secret",
        ],
      },
      credentials.database ? { database: credentials.database } : {},
    )
  } finally {
    await driver.close()
  }
}
