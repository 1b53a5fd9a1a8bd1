"""What the schema tells a client about itself. In production it tells nothing beyond
answers: no introspection and no "Did you mean ...?" hints naming fields and types,
which would hand a stranger the schema piece by piece (clients read schema.graphql)."""

from __future__ import annotations

import re

from graphql import GraphQLError

_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def hide_suggestions(error: GraphQLError) -> None:
    """Drop graphql-core's suggestions of similar names from the error's message (in place)."""
    error.message = _SUGGESTION.sub("", error.message)
