/**
 * EventBus over Redis pub/sub, for scale-out: a worker on one machine publishes a run's events and an
 * API process on another streams them. One channel per run (`<prefix>:run-events:<runId>`), so Redis
 * routes and a process only receives the runs it streams; local listeners are refcounted per channel.
 *
 * Pub/sub is at most once (a message published while a subscriber reconnects is gone). That is fine
 * here: the store is the log, and a stream re-reads it by seq; the bus only makes delivery prompt.
 */
import { Redis } from "ioredis"
import type { EventBus } from "#application/ports/event-bus.js"
import type { Logger } from "#application/ports/logging.js"
import { errorMessage, RetryableError } from "#domain/errors.js"
import type { RunEvent } from "#domain/run-event.js"

export interface RedisEventBusOptions {
  /** redis://… */
  url: string
  /** key prefix shared by the processes of one installation (PRWRIGHT_QUEUE_PREFIX) */
  prefix: string
  logger?: Logger
  /** how long publish and subscribe may wait for Redis before they give up; default 3000 */
  timeoutMs?: number
}

type Listener = (event: RunEvent) => void

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new RetryableError(
            `Redis did not answer ${what} within ${ms} ms: check that REDIS_URL is reachable`,
          ),
        ),
      ms,
    )
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export const createRedisEventBus = (options: RedisEventBusOptions): EventBus => {
  const logger = options.logger?.child({ component: "redis-event-bus" })
  const timeoutMs = options.timeoutMs ?? 3000
  const channelPrefix = `${options.prefix}:run-events:`
  const channelOf = (runId: string) => `${channelPrefix}${runId}`

  const connect = (role: "pub" | "sub") => {
    const client = new Redis(options.url, {
      connectionName: `${options.prefix}:events-${role}`,
      // A publisher must not stall a run while Redis is away: fail fast, the store keeps the event.
      maxRetriesPerRequest: role === "pub" ? 1 : null,
      autoResubscribe: true,
    })
    // ioredis reconnects (and resubscribes) on its own; one line per outage and one on recovery.
    let lost = false
    const report = (fields: Record<string, unknown>) => {
      if (!lost && !closed) logger?.warn("redis event bus connection error", { role, ...fields })
      lost = true
    }
    client.on("error", (error) => report({ error: errorMessage(error) }))
    client.on("close", () => report({ error: "connection closed" }))
    client.on("ready", () => {
      if (lost) logger?.info("redis event bus reconnected", { role })
      lost = false
    })
    return client
  }

  let closed = false
  const publisher = connect("pub")
  const subscriber = connect("sub")
  /** per channel: local listeners, and the SUBSCRIBE that later listeners wait for too */
  const channels = new Map<string, { listeners: Set<Listener>; ready: Promise<void> }>()

  subscriber.on("message", (channel: string, message: string) => {
    const set = channels.get(channel)?.listeners
    if (!set) return
    let event: RunEvent
    try {
      const parsed = JSON.parse(message) as RunEvent & { at: string }
      if (parsed.runId !== channel.slice(channelPrefix.length) || !Number.isInteger(parsed.seq)) return
      event = { ...parsed, at: new Date(parsed.at) }
    } catch (error) {
      logger?.warn("ignored an unreadable run event message", { channel, error: errorMessage(error) })
      return
    }
    for (const listener of [...set]) {
      try {
        listener(event)
      } catch (error) {
        logger?.warn("event listener threw", {
          runId: event.runId,
          seq: event.seq,
          error: errorMessage(error),
        })
      }
    }
  })

  // every run's events, for metrics: one more connection, made on first use
  let patternSubscriber: Redis | undefined
  const everything = new Set<Listener>()

  return {
    async subscribeAll(listener) {
      const entry: Listener = (event) => listener(event)
      everything.add(entry)
      if (!patternSubscriber) {
        patternSubscriber = connect("sub")
        patternSubscriber.on("pmessage", (_pattern: string, channel: string, message: string) => {
          try {
            const parsed = JSON.parse(message) as RunEvent & { at: string }
            if (parsed.runId !== channel.slice(channelPrefix.length)) return
            const event = { ...parsed, at: new Date(parsed.at) }
            for (const each of [...everything]) each(event)
          } catch (error) {
            logger?.debug("ignored an unreadable run event message", { error: errorMessage(error) })
          }
        })
        await withTimeout(patternSubscriber.psubscribe(`${channelPrefix}*`), timeoutMs, "a subscribe").catch(
          (error: unknown) =>
            logger?.warn("could not subscribe to all run events; retried on reconnect", {
              error: errorMessage(error),
            }),
        )
      }
      return async () => {
        everything.delete(entry)
      }
    },

    async publish(event) {
      if (closed) return
      const message = JSON.stringify({ ...event, at: event.at.toISOString() })
      await withTimeout(publisher.publish(channelOf(event.runId), message), timeoutMs, "a publish")
    },

    async subscribe(runId, listener) {
      const channel = channelOf(runId)
      // Wrapped, so the same function subscribed twice gets two independent subscriptions.
      const entry: Listener = (event) => listener(event)
      let state = channels.get(channel)
      if (!state) {
        // Commands on one connection run in order, so a SUBSCRIBE issued after an UNSUBSCRIBE of the
        // same channel (a listener leaving while another arrives) leaves the channel subscribed.
        const ready = withTimeout(subscriber.subscribe(channel), timeoutMs, "a subscribe").then(() => {})
        state = { listeners: new Set(), ready }
        channels.set(channel, state)
      }
      const { listeners } = state
      listeners.add(entry)
      const unsubscribe = async () => {
        if (!listeners.delete(entry) || listeners.size > 0) return
        if (channels.get(channel)?.listeners === listeners) channels.delete(channel)
        // Bounded: a stream closing while Redis is away must not hang on the offline queue.
        if (!closed)
          await withTimeout(subscriber.unsubscribe(channel), timeoutMs, "an unsubscribe").catch(() => {})
      }
      try {
        await state.ready
      } catch (error) {
        await unsubscribe()
        throw error
      }
      return unsubscribe
    },

    async close() {
      if (closed) return
      closed = true
      channels.clear()
      everything.clear()
      await Promise.all(
        [publisher, subscriber, ...(patternSubscriber ? [patternSubscriber] : [])].map(async (client) => {
          // QUIT would wait in the offline queue for a Redis that is not there.
          if (client.status !== "ready") return client.disconnect()
          await withTimeout(client.quit(), timeoutMs, "QUIT").catch(() => client.disconnect())
        }),
      )
    },
  }
}
