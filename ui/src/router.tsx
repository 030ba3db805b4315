/** A small history router: the UI has six pages, not worth a dependency. */
import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from "react"

const listeners = new Set<() => void>()
const notify = () => {
  for (const listener of listeners) listener()
}
window.addEventListener("popstate", notify)

export const navigate = (to: string, options: { replace?: boolean } = {}) => {
  if (to === window.location.pathname + window.location.search) return
  if (options.replace) window.history.replaceState(null, "", to)
  else window.history.pushState(null, "", to)
  notify()
  window.scrollTo(0, 0)
}

const subscribe = (listener: () => void) => {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

export const useLocation = () => {
  const href = useSyncExternalStore(subscribe, () => window.location.pathname + window.location.search)
  const url = new URL(href, window.location.origin)
  return { path: url.pathname, search: url.searchParams }
}

export const Link = ({
  href,
  onClick,
  ...rest
}: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) => (
  <a
    href={href}
    {...rest}
    onClick={(event: MouseEvent<HTMLAnchorElement>) => {
      onClick?.(event)
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey)
        return
      if (!href.startsWith("/")) return
      event.preventDefault()
      navigate(href)
    }}
  />
)
