// Must NOT compile (tests/contract/test_contract.py checks tsc rejects it): a misspelled sign-in
// field. With an untyped sign-in body (issue 15, item 3) this compiled and sent no credential.
import type { paths } from "./generated/api";

type SignIn = paths["/auth/google"]["post"]["requestBody"]["content"]["application/json"];

export const misspelled: SignIn = { credentail: "<Google ID token>" };
