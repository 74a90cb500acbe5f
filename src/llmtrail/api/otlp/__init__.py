"""The OpenTelemetry surface: OTLP/HTTP (`router`) and OTLP/gRPC (`grpc_server`) receivers
that store each span as a log through the group writer."""
