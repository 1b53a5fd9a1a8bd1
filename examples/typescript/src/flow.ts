// A client's first session with concept-auth, typed end to end: register, ask who it is,
// list its sessions; then the two failures every client handles: an expected one (a
// `UserError`, data with a code) and a request-level one (`UNAUTHENTICATED`, a GraphQL
// error with `extensions.code`).
//
//     npm ci && npm run codegen && npm run build && npm run flow -- http://127.0.0.1:8000
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { SetContextLink } from "@apollo/client/link/context";

import type { ErrorCode, RequestErrorCode } from "./gql/graphql.js";
import { Me, Register, Sessions } from "./operations.js";

/** A client that sends the session it holds, if any, as `Authorization: Bearer <session>`. */
export function connect(server: string, session: () => string | undefined): ApolloClient {
  const authorization = new SetContextLink((context) => {
    const token = session();
    return token === undefined ? {} : { headers: { ...context["headers"], authorization: `Bearer ${token}` } };
  });
  return new ApolloClient({
    link: ApolloLink.from([authorization, new HttpLink({ uri: `${server}/graphql` })]),
    cache: new InMemoryCache(),
    defaultOptions: { query: { fetchPolicy: "network-only" } },
  });
}

/** The code of a request-level failure (a GraphQL error), or undefined for anything else. */
export function requestErrorCode(error: unknown): RequestErrorCode | undefined {
  if (!CombinedGraphQLErrors.is(error)) {
    return undefined;
  }
  return error.errors[0]?.extensions?.["code"] as RequestErrorCode | undefined;
}

type Signed = { kind: "signed in"; user: string; session: string; expiresAt: Date };
type Refused = { kind: "refused"; code: ErrorCode; message: string };

/** `register`, its answer as the union it is: a session, or a `UserError` to show in the form. */
export async function register(client: ApolloClient, username: string, password: string): Promise<Signed | Refused> {
  const { data } = await client.mutate({ mutation: Register, variables: { username, password } });
  const answer = data?.register;
  if (answer === undefined) {
    throw new Error("register answered no data");
  }
  switch (answer.__typename) {
    case "AuthSuccess":
      // DateTime is mapped to string (codegen.ts): an ISO 8601 instant, with its offset.
      return { kind: "signed in", user: answer.user.id, session: answer.session, expiresAt: new Date(answer.expiresAt) };
    case "UserError":
      return { kind: "refused", code: answer.code, message: answer.message };
    case "SecondFactorRequired":
      // AuthResult is every sign-in's answer; a new account has no second factor yet.
      throw new Error("register never asks for a second factor");
  }
}

async function main(server: string): Promise<void> {
  let session: string | undefined;
  const client = connect(server, () => session);
  const username = `ada_${Date.now().toString(36)}`;
  const password = "correct horse battery";

  const registered = await register(client, username, password);
  if (registered.kind !== "signed in") {
    throw new Error(`register refused: ${registered.code}`);
  }
  session = registered.session;

  const me = (await client.query({ query: Me })).data?.me;
  const sessions = (await client.query({ query: Sessions })).data?.sessions ?? [];
  const current = sessions.find((listed) => listed.current);

  const again = await register(client, username.toUpperCase(), password); // usernames ignore case
  const refused = again.kind === "refused" ? again.code : undefined;

  session = undefined; // signed out
  let unauthenticated: RequestErrorCode | undefined;
  try {
    await client.query({ query: Sessions });
  } catch (error) {
    unauthenticated = requestErrorCode(error);
  }

  console.log(
    JSON.stringify({
      username: me?.username,
      sameUser: me?.id === registered.user,
      expiresInDays: Math.round((registered.expiresAt.getTime() - Date.now()) / 86_400_000),
      sessions: sessions.length,
      currentCreatedAt: current === undefined ? undefined : new Date(current.createdAt).toISOString(),
      refused,
      unauthenticated,
    }),
  );
}

await main(process.argv[2] ?? "http://127.0.0.1:8000");
