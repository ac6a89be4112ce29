package server

import (
	"context"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracingFlags turn on OpenTelemetry tracing.
type TracingFlags struct {
	OTLPEndpoint string `name:"otlp-endpoint" env:"LCW_OTLP_ENDPOINT" help:"Send traces over OTLP/HTTP to this collector (for example http://127.0.0.1:4318, or a full .../v1/traces URL); no tracing when empty."`
}

// TracerProvider exports spans to the OTLP endpoint, or drops them when none is configured.
// shutdown flushes what is buffered.
func TracerProvider(ctx context.Context, endpoint string) (trace.TracerProvider, func(context.Context) error, error) {
	if endpoint == "" {
		return noop.NewTracerProvider(), func(context.Context) error { return nil }, nil
	}
	// Like OTEL_EXPORTER_OTLP_ENDPOINT, a base URL gets the signal's path.
	if u, err := url.Parse(endpoint); err == nil && strings.Trim(u.Path, "/") == "" {
		endpoint = strings.TrimSuffix(endpoint, "/") + "/v1/traces"
	}
	exporter, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName("lcw-gateway"))))
	return tp, tp.Shutdown, nil
}
