// GraphiQL with the explorer plugin, talking to the GraphQL endpoint this page came from.
// The query and variables live in the URL (?q=...&variables=...) so a page can be shared.
"use strict";

const EXAMPLE_QUERY = `# Welcome to GraphiQL
#
# Type a query on this side; the schema drives autocompletion and validation.
# Run it with Ctrl-Enter (or the play button). For calls that need a session,
# add {"Authorization": "Bearer <session>"} in the Headers tab below.
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

const parameters = Object.fromEntries(new URLSearchParams(window.location.search));

function updateURL(data) {
  Object.assign(parameters, data);
  const search = new URLSearchParams(
    Object.entries(parameters).filter(([, value]) => Boolean(value)),
  );
  history.replaceState(null, "", "?" + search.toString());
}

const fetcher = GraphiQL.createFetcher({
  url: window.location.href.split("?")[0],
});

function GraphiQLWithExplorer() {
  const [query, setQuery] = React.useState(parameters.q || EXAMPLE_QUERY);
  const [variables, setVariables] = React.useState(parameters.variables);
  const explorerPlugin = React.useMemo(() => GraphiQLPluginExplorer.explorerPlugin(), []);

  return React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultEditorToolsVisibility: true,
    plugins: [explorerPlugin],
    query: query,
    variables: variables,
    onEditQuery: (newQuery) => {
      setQuery(newQuery);
      updateURL({ q: newQuery });
    },
    onEditVariables: (newVariables) => {
      setVariables(newVariables);
      updateURL({ variables: newVariables });
    },
    inputValueDeprecation: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
  });
}

ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQLWithExplorer),
);
