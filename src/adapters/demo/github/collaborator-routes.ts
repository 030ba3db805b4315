/**
 * Who may do what, and reactions: `GET /repos/{o}/{r}/collaborators/{u}/permission` answers from grants
 * set per repository and user (`double.grant("o/r", "alice", "write")`); without a grant the repository's
 * owner is admin and everyone else has read on a public repository and none on a private one, as for a
 * stranger on GitHub. `POST /repos/{o}/{r}/issues/comments/{id}/reactions` records reactions (201 new,
 * 200 when the same user already gave that one).
 */
import type { DoubleState } from "./rest-routes.js"
import { visibleRepo } from "./rest-routes.js"
import { HttpError, type Router } from "./router.js"
import { nodeId, simpleUser, timestamp } from "./shapes.js"

export type Role = "admin" | "maintain" | "write" | "triage" | "read" | "none"

export interface StoredReaction {
  id: number
  repo: string
  commentId: number
  user: string
  content: string
  createdAt: string
}

export interface AccessState {
  /** `owner/repo` (lower case) → login (lower case) → role */
  grants: Map<string, Map<string, Role>>
  reactions: StoredReaction[]
}

const CONTENTS = ["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"]

// The REST `permission` field predates maintain and triage; `role_name` carries them.
const LEGACY: Record<Role, string> = {
  admin: "admin",
  maintain: "write",
  write: "write",
  triage: "read",
  read: "read",
  none: "none",
}

export const createAccessState = (): AccessState => ({ grants: new Map(), reactions: [] })

export const registerCollaboratorRoutes = (router: Router, state: DoubleState, access: AccessState): void => {
  router.add("GET", "/repos/:owner/:repo/collaborators/:username/permission", ({ identity, params }) => {
    const repo = visibleRepo(state, identity, params)
    const login = params.username ?? ""
    const granted = access.grants.get(repo.fullName.toLowerCase())?.get(login.toLowerCase())
    const role: Role =
      granted ?? (login.toLowerCase() === repo.owner.toLowerCase() ? "admin" : repo.private ? "none" : "read")
    const writer = role === "admin" || role === "maintain" || role === "write"
    return {
      status: 200,
      body: {
        permission: LEGACY[role],
        role_name: role,
        user: {
          ...simpleUser(state.urls, login),
          permissions: {
            admin: role === "admin",
            maintain: role === "admin" || role === "maintain",
            push: writer,
            triage: writer || role === "triage",
            pull: role !== "none",
          },
          role_name: role,
        },
      },
    }
  })

  router.add("POST", "/repos/:owner/:repo/issues/comments/:id/reactions", ({ identity, params, body }) => {
    const repo = visibleRepo(state, identity, params)
    const comment = state.comments.get(Number(params.id))
    if (!comment || comment.repo !== repo.fullName) throw new HttpError(404, "Not Found")
    const content = (body as { content?: unknown } | undefined)?.content
    if (typeof content !== "string" || !CONTENTS.includes(content)) {
      throw new HttpError(422, "Validation Failed", {
        errors: [{ resource: "Reaction", code: "invalid", field: "content" }],
      })
    }
    const existing = access.reactions.find(
      (r) => r.commentId === comment.id && r.user === identity.login && r.content === content,
    )
    const reaction = existing ?? {
      id: state.nextId(),
      repo: repo.fullName,
      commentId: comment.id,
      user: identity.login,
      content,
      createdAt: timestamp(),
    }
    if (!existing) access.reactions.push(reaction)
    return {
      status: existing ? 200 : 201,
      body: {
        id: reaction.id,
        node_id: nodeId("Reaction", reaction.id),
        user: simpleUser(state.urls, reaction.user),
        content: reaction.content,
        created_at: reaction.createdAt,
      },
    }
  })
}
