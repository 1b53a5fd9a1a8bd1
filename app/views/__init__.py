"""Views for people, generated from the running code: syncs as specifications, the
wiring diagram, routes and who answers them, and flows as causal trees."""
