import { useEffect, useRef, useState } from "react"
import { createTranscript, type Transcript, type WireEvent } from "../../src/entrypoints/cli/transcript.ts"
import { api } from "./api.ts"

const EVENT_TYPES = [
  "status",
  "progress",
  "model-call",
  "assistant-text",
  "tool-call",
  "tool-result",
  "plan",
  "log",
  "error",
  "usage",
  "diff",
  "test-result",
  "budget",
]

export type Connection = "loading" | "live" | "reconnecting" | "ended"

/**
 * A run's transcript: the stored events in JSON pages, then the live stream from the last seq.
 * EventSource reconnects by itself with Last-Event-ID; the transcript drops any seq it has seen, so
 * neither a reconnect nor a reload shows a step twice.
 */
export const useTranscript = (jobId: string, onEnd: () => void) => {
  const ref = useRef<Transcript>(createTranscript())
  const [version, setVersion] = useState(0)
  const [connection, setConnection] = useState<Connection>("loading")
  const [error, setError] = useState<string>()
  const endRef = useRef(onEnd)
  endRef.current = onEnd

  useEffect(() => {
    const transcript = createTranscript()
    ref.current = transcript
    setVersion(0)
    setConnection("loading")
    let source: EventSource | undefined
    let stopped = false
    const load = async () => {
      let after = 0
      for (;;) {
        const page = await api.events(jobId, after, 500)
        if (stopped) return
        for (const event of page.events) transcript.add(event as WireEvent)
        setVersion(transcript.version)
        if (page.nextAfter === undefined) break
        after = page.nextAfter
      }
      source = new EventSource(api.liveEventsUrl(jobId, transcript.lastSeq))
      const onMessage = (message: Event) => {
        if (!(message instanceof MessageEvent) || typeof message.data !== "string" || !message.data) return
        const event = JSON.parse(message.data) as WireEvent
        if (typeof event.seq === "number" && transcript.add(event)) setVersion(transcript.version)
      }
      for (const type of EVENT_TYPES) source.addEventListener(type, onMessage)
      source.addEventListener("end", () => {
        source?.close()
        setConnection("ended")
        endRef.current()
      })
      source.onopen = () => setConnection("live")
      source.onerror = () => {
        if (source?.readyState !== EventSource.CLOSED) setConnection("reconnecting")
      }
    }
    load().catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
    return () => {
      stopped = true
      source?.close()
    }
  }, [jobId])

  return { transcript: ref.current, version, connection, error }
}
