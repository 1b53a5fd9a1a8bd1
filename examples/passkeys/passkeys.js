// Passkeys against concept-auth's GraphQL API, as a frontend does it: no library, no
// build step. Copy what you need. The page (index.html) only wires these to its forms.
//
// The two ceremonies, each two requests:
//   add a passkey:  beginPasskeyRegistration(password) -> navigator.credentials.create()
//                   -> finishPasskeyRegistration(ticket, credentialJson)
//   sign in:        beginPasskeyLogin(username?) -> navigator.credentials.get()
//                   -> finishPasskeyLogin(ticket, credentialJson) -> a session
// The options come as WebAuthn's JSON (optionsJson) and the browser's answer goes back
// as JSON (credentialJson), so nothing here deals in bytes, except where a browser lacks
// the JSON methods (see the fallbacks at the end).
"use strict";

// The API on this page's origin. From another origin, the server must list this page's
// origin in CORS_ORIGINS, and passkeys need the page's origin in WEBAUTHN_ORIGINS.
const GRAPHQL = "/graphql";

// The session token. Kept in memory only: a reload signs out. (Keep it where your app
// keeps secrets; never in localStorage, which any script on the page can read.)
let session = null;

class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

async function graphql(query, variables = {}) {
  const headers = {"Content-Type": "application/json"};
  if (session) headers.Authorization = `Bearer ${session}`;
  const response = await fetch(GRAPHQL, {method: "POST", headers, body: JSON.stringify({query, variables})});
  const body = await response.json();
  if (body.errors) throw new ApiError(body.errors[0].extensions?.code ?? "ERROR", body.errors[0].message);
  return body.data;
}

// An expected failure comes as data (a UserError); here it is thrown like the others.
function succeeded(result, typename) {
  if (result.__typename === "UserError") throw new ApiError(result.code, result.message);
  if (result.__typename !== typename) throw new ApiError(result.__typename, `Not handled here: ${result.__typename}.`);
  return result;
}

const SIGNED_IN = "__typename ... on AuthSuccess { user { id username } session } ... on UserError { code message }";

// -- Signing up and in with a password (a passkey is added once signed in) --------------------

async function register(username, password) {
  const data = await graphql(
    `mutation ($username: String!, $password: String!) { register(username: $username, password: $password) { ${SIGNED_IN} } }`,
    {username, password},
  );
  return signedIn(data.register);
}

async function signInWithPassword(username, password) {
  const data = await graphql(
    `mutation ($username: String!, $password: String!) { authenticate(username: $username, password: $password) { ${SIGNED_IN} } }`,
    {username, password},
  );
  return signedIn(data.authenticate);
}

function signedIn(result) {
  const success = succeeded(result, "AuthSuccess");
  session = success.session;
  return success.user;
}

async function signOut() {
  await graphql("mutation { logout { ok } }");
  session = null;
}

// -- Passkeys ---------------------------------------------------------------------------------

async function addPasskey(password, name) {
  const begun = await graphql(
    `mutation ($password: String!) {
      beginPasskeyRegistration(password: $password) {
        __typename ... on PasskeyChallenge { optionsJson ticket } ... on UserError { code message }
      }
    }`,
    {password},
  );
  const {optionsJson, ticket} = succeeded(begun.beginPasskeyRegistration, "PasskeyChallenge");
  const credential = await navigator.credentials.create({publicKey: creationOptions(optionsJson)});
  const finished = await graphql(
    `mutation ($ticket: String!, $credentialJson: String!, $name: String) {
      finishPasskeyRegistration(ticket: $ticket, credentialJson: $credentialJson, name: $name) {
        __typename ... on PasskeyAdded { passkey { id name } } ... on UserError { code message }
      }
    }`,
    {ticket, credentialJson: credentialJson(credential), name: name || null},
  );
  return succeeded(finished.finishPasskeyRegistration, "PasskeyAdded").passkey;
}

// With a username, only that user's passkey signs in; without one, whoever's passkey the
// person picks (the browser offers every passkey it holds for this site).
async function signInWithPasskey(username) {
  const begun = await graphql(
    "mutation ($username: String) { beginPasskeyLogin(username: $username) { optionsJson ticket } }",
    {username: username || null},
  );
  const {optionsJson, ticket} = begun.beginPasskeyLogin;
  const credential = await navigator.credentials.get({publicKey: requestOptions(optionsJson)});
  const finished = await graphql(
    `mutation ($ticket: String!, $credentialJson: String!) {
      finishPasskeyLogin(ticket: $ticket, credentialJson: $credentialJson) { ${SIGNED_IN} }
    }`,
    {ticket, credentialJson: credentialJson(credential)},
  );
  return signedIn(finished.finishPasskeyLogin);
}

async function listPasskeys() {
  return (await graphql("{ passkeys { id name createdAt lastUsedAt backedUp } }")).passkeys;
}

async function removePasskey(id) {
  const data = await graphql(
    `mutation ($id: ID!) {
      removePasskey(id: $id) { __typename ... on PasskeyRemoved { id } ... on UserError { code message } }
    }`,
    {id},
  );
  return succeeded(data.removePasskey, "PasskeyRemoved").id;
}

// -- WebAuthn's JSON, with fallbacks for browsers without its JSON methods ----------------------
// (PublicKeyCredential.parse*OptionsFromJSON and credential.toJSON(): Chrome 129,
// Firefox 119, Safari 18.4. Older ones need the few lines below.)

function creationOptions(optionsJson) {
  const options = JSON.parse(optionsJson);
  if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(options);
  return {
    ...options,
    challenge: bytes(options.challenge),
    user: {...options.user, id: bytes(options.user.id)},
    excludeCredentials: (options.excludeCredentials ?? []).map((known) => ({...known, id: bytes(known.id)})),
  };
}

function requestOptions(optionsJson) {
  const options = JSON.parse(optionsJson);
  if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(options);
  return {
    ...options,
    challenge: bytes(options.challenge),
    allowCredentials: (options.allowCredentials ?? []).map((known) => ({...known, id: bytes(known.id)})),
  };
}

function credentialJson(credential) {
  if (typeof credential.toJSON === "function") return JSON.stringify(credential.toJSON());
  const answer = credential.response;
  const response = answer.attestationObject
    ? {
        clientDataJSON: base64url(answer.clientDataJSON),
        attestationObject: base64url(answer.attestationObject),
        transports: answer.getTransports ? answer.getTransports() : [],
      }
    : {
        clientDataJSON: base64url(answer.clientDataJSON),
        authenticatorData: base64url(answer.authenticatorData),
        signature: base64url(answer.signature),
        userHandle: answer.userHandle ? base64url(answer.userHandle) : null,
      };
  return JSON.stringify({
    id: credential.id,
    rawId: base64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment ?? null,
    clientExtensionResults: credential.getClientExtensionResults(),
    response,
  });
}

function bytes(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (character) => character.charCodeAt(0));
}

function base64url(buffer) {
  const binary = String.fromCharCode(...new Uint8Array(buffer));
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// -- The page ---------------------------------------------------------------------------------

function show(text) {
  document.getElementById("status").textContent = text;
}

function failure(error) {
  // ApiError: the API's code (INVALID_CREDENTIALS, RATE_LIMITED, ...). DOMException: the
  // browser's (NotAllowedError: cancelled or timed out; InvalidStateError: this
  // authenticator holds a passkey of this account already; SecurityError: a page whose
  // origin is not on the relying party's domain, such as http://127.0.0.1).
  return `${error.code && !(error instanceof DOMException) ? error.code : error.name}: ${error.message}`;
}

function signedInAs(user, how) {
  return user ? `Signed in as ${user.username} (${how}).` : "Signed out.";
}

// Shows the signed-in part of the page, with the user's passkeys, or hides it.
async function refresh(user) {
  document.getElementById("signed-in").hidden = !user;
  const list = document.getElementById("passkeys");
  list.replaceChildren();
  if (!user) return;
  for (const passkey of await listPasskeys()) {
    const item = document.createElement("li");
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Remove";
    remove.addEventListener("click", () => act(async () => {
      await removePasskey(passkey.id);
      await refresh(user);
      show(`Removed passkey ${passkey.name}.`);
    }));
    item.append(`${passkey.name} (added ${passkey.createdAt}, last used ${passkey.lastUsedAt ?? "never"}) `, remove);
    list.append(item);
  }
}

async function act(step) {
  try {
    await step();
  } catch (error) {
    show(failure(error));
  }
}

function onSubmit(id, handler) {
  document.getElementById(id).addEventListener("submit", (event) => {
    event.preventDefault();
    act(() => handler(new FormData(event.target), event.submitter));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  let user = null, how = null;
  onSubmit("password-form", async (form, button) => {
    const username = form.get("username"), password = form.get("password");
    user = button.name === "register" ? await register(username, password) : await signInWithPassword(username, password);
    how = "password";
    await refresh(user);
    show(signedInAs(user, how));
  });
  onSubmit("passkey-form", async (form) => {
    user = await signInWithPasskey(form.get("username"));
    how = "passkey";
    await refresh(user);
    show(signedInAs(user, how));
  });
  onSubmit("add-form", async (form) => {
    const added = await addPasskey(form.get("password"), form.get("name"));
    await refresh(user);
    show(`Added passkey ${added.name}.`);
  });
  document.getElementById("sign-out").addEventListener("click", () => act(async () => {
    await signOut();
    user = how = null;
    await refresh(null);
    show(signedInAs(null));
  }));
});
