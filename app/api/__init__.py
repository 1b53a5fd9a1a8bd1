"""The API layers: GraphQL (app.api.schema:schema) and the seeds' REST protocol."""
