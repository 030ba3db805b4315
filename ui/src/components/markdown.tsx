import { useEffect, useState } from "react"

type Render = (source: string) => string
let renderer: Promise<Render> | undefined

/** marked + DOMPurify, loaded on first use (their own chunk). Model output is untrusted: always sanitised. */
const loadRenderer = () => {
  renderer ??= Promise.all([import("marked"), import("dompurify")]).then(
    ([{ marked }, { default: DOMPurify }]) => {
      DOMPurify.addHook("afterSanitizeAttributes", (node) => {
        if (node.tagName === "A") {
          node.setAttribute("rel", "noreferrer noopener")
          node.setAttribute("target", "_blank")
        }
      })
      return (source: string) =>
        DOMPurify.sanitize(marked.parse(source, { async: false, gfm: true }) as string, {
          FORBID_TAGS: ["style", "form", "input", "button", "iframe", "img"],
          FORBID_ATTR: ["style"],
        })
    },
  )
  return renderer
}

export const Markdown = ({ source }: { source: string; label?: string }) => {
  const [html, setHtml] = useState<string>()
  useEffect(() => {
    let live = true
    void loadRenderer().then((render) => live && setHtml(render(source)))
    return () => {
      live = false
    }
  }, [source])
  if (html === undefined) return <pre className="markdown-source">{source}</pre>
  // biome-ignore lint/security/noDangerouslySetInnerHtml: sanitised by DOMPurify above
  return <div className="markdown" dangerouslySetInnerHTML={{ __html: html }} />
}
