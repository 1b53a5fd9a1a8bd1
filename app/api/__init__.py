"""The API layers: the routes each feature offers, GraphQL (fields generated from the routes) and REST."""
