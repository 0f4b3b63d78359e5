// What a frontend written against the generated types does. tests/contract/test_contract.py
// generates ./generated/api.d.ts from /openapi.json with openapi-typescript (default options) and
// type-checks this file with `tsc --strict`. Each `@ts-expect-error` line must NOT compile: tsc
// reports an unused one, so the document cannot quietly loosen the types either.
import type { components, paths } from "./generated/api";

type Schemas = components["schemas"];
type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;
type CreateBody = Json<paths["/api/applications"]["post"]["requestBody"]>;
type PatchBody = Json<paths["/api/applications/{app_id}"]["patch"]["requestBody"]>;
type SignIn = Json<paths["/auth/google"]["post"]["requestBody"]>;
type Page = Json<paths["/api/applications"]["get"]["responses"][200]>;
type Stats = Json<paths["/api/applications/stats"]["get"]["responses"][200]>;
type Stale = Json<paths["/api/applications/{app_id}"]["patch"]["responses"][412]>;
type Invalid = Json<paths["/api/applications"]["post"]["responses"][422]>;

// Minimal bodies: only what is required (issue 15, item 1: no default makes a field required).
export const create: CreateBody = { company: "Acme", role: "Backend Engineer" };
export const patch: PatchBody = { status: "interviewing" };
export const clearNotes: PatchBody = { notes: null }; // an optional field is cleared with null
// Item 2: the server answers 422 to null for these, so the types refuse it.
// @ts-expect-error company cannot be null in a patch
export const nullCompany: PatchBody = { company: null };
// @ts-expect-error tags cannot be null in a patch
export const nullTags: PatchBody = { tags: null };

// Item 3: the sign-in body is typed: one of three names for the Google ID token.
export const signIn: SignIn = { credential: "<Google ID token>" };
export const legacySignIn: SignIn = { token: "<Google ID token>" };
// @ts-expect-error a sign-in body without the token
export const emptySignIn: SignIn = {};

export function newest(page: Page): string {
  const first = page.items[0];
  if (first === undefined) return page.next_cursor ?? "no applications";
  const history = first.status_history.map((change) => `${change.status} at ${change.at}`);
  return `${first.company} (${first.role}), ${first.status} since ${first.updated_at}: ${history.join(", ")}`;
}

// Item 5: by_status lists the statuses, so a typo is caught.
export function active(stats: Stats): number {
  return stats.by_status.applied + stats.by_status.screening + stats.by_status.interviewing + stats.by_status.offer;
}
// @ts-expect-error no such status
export const typo = (stats: Stats): number => stats.by_status.interveiwing;

// Item 4: the error codes are an enum a frontend can switch on.
export function explain(problem: Stale | Invalid): string {
  switch (problem.error) {
    case "precondition_failed":
      return "Someone changed this application; reload it.";
    case "validation_error":
      return (problem.errors ?? []).map((e) => `${e.field}: ${e.message}`).join("; ");
    case "missing_token":
    case "invalid_token":
      return "Sign in again.";
    // @ts-expect-error not a code the API sends
    case "no_such_code":
      return "unreachable";
    default:
      return problem.message;
  }
}
export const code: Schemas["ErrorCode"] = "rate_limited";

// What a frontend written against the original (FastAPI) backend reads: `detail`, a message or a
// 422's list of {loc, msg, type}.
export function legacyMessage(problem: Stale | Invalid): string {
  const detail = problem.detail;
  return typeof detail === "string" ? detail : detail.map((d) => `${d.loc.slice(1).join(".")}: ${d.msg}`).join("; ");
}

// Item 6: CORS preflights are the browser's business, not operations of the client.
export const noPreflight: paths["/api/applications"]["options"] = undefined;
