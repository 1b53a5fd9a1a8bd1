// GraphiQL with the explorer plugin, talking to the GraphQL endpoint this page came from.
//
// It keeps no secrets: operations hold passwords and headers hold bearer tokens, so the
// editors' contents, the history and the tabs live in this page's memory only, never in
// the URL (the browser's history), localStorage or sessionStorage. Only how GraphiQL
// looks (theme, pane sizes, the open plugin) is remembered. A link may still open the
// page with an operation (?query=...&variables=..., as GraphiQL's links do, or the
// earlier ?q=...): it is read once, never written back.
"use strict";

const EXAMPLE_QUERY = `# Welcome to GraphiQL
#
# Type a query on this side; the schema drives autocompletion and validation.
# Run it with Ctrl-Enter (or the play button). For calls that need a session,
# add {"Authorization": "Bearer <session>"} in the Headers tab below.
# Nothing you type here is stored in the browser: it is gone with the page.
#
# An example:
#
#     mutation {
#       register(username: "ada", password: "correct horse") {
#         ... on AuthSuccess { user { id username } session }
#         ... on UserError { code message }
#       }
#     }
#
`;

const NAMESPACE = "graphiql:";
const REMEMBERED = new Set(
  ["theme", "visiblePlugin", "editorFlex", "secondaryEditorFlex", "docExplorerFlex"].map((key) => NAMESPACE + key),
);

// Earlier versions of this page stored operations and headers in localStorage: forget them.
for (const key of Object.keys(localStorage)) {
  if (key.startsWith(NAMESPACE) && !REMEMBERED.has(key)) {
    localStorage.removeItem(key);
  }
}

// GraphiQL's storage: the remembered keys in localStorage, everything else in memory.
const inMemory = new Map();
const storage = {
  getItem: (key) => (REMEMBERED.has(key) ? localStorage.getItem(key) : (inMemory.get(key) ?? null)),
  setItem: (key, value) => (REMEMBERED.has(key) ? localStorage.setItem(key, value) : inMemory.set(key, String(value))),
  removeItem: (key) => (REMEMBERED.has(key) ? localStorage.removeItem(key) : inMemory.delete(key)),
  clear: () => {
    inMemory.clear();
    REMEMBERED.forEach((key) => localStorage.removeItem(key));
  },
  get length() {
    return inMemory.size + [...REMEMBERED].filter((key) => localStorage.getItem(key) !== null).length;
  },
};

const linked = new URLSearchParams(window.location.search);

const fetcher = GraphiQL.createFetcher({
  url: window.location.origin + window.location.pathname,
});

function GraphiQLWithExplorer() {
  const explorerPlugin = React.useMemo(() => GraphiQLPluginExplorer.explorerPlugin(), []);

  return React.createElement(GraphiQL, {
    fetcher: fetcher,
    storage: storage,
    defaultEditorToolsVisibility: true,
    plugins: [explorerPlugin],
    defaultQuery: EXAMPLE_QUERY,
    query: linked.get("query") ?? linked.get("q") ?? undefined,
    variables: linked.get("variables") ?? undefined,
    inputValueDeprecation: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
  });
}

ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(GraphiQLWithExplorer));
