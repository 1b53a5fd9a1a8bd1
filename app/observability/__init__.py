"""Operating the server: Prometheus metrics, OpenTelemetry traces, structured logs."""
