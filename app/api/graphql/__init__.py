"""The GraphQL side of each feature, one module per feature like `app/api/routes/` and
`syncs/` (found here: nothing lists them): its object types, and the presenters that
show its routes' responses as them (`app.api.fields.presenter`). The fields themselves
are generated from the routes."""
