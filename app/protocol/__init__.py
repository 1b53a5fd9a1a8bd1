"""The API protocol: what the engine's flows mean to a client. Routes (the operations
offered and their inputs), error codes (with their REST statuses and whether they are
request-level), the bounds on client input, and the start-up check that every route
is answered. The engine knows none of this; the API layers and the syncs do."""
