import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { endpointLabel } from './metrics.js';
import type { Tracing } from './tracing.js';

/**
 * The OpenTelemetry side of tracing.ts, loaded only when tracing is configured.
 *
 * No global registration (no global tracer provider or context manager): each gateway has its
 * own provider, and the current operation span travels in this module's AsyncLocalStorage, so
 * two gateways in one process (tests) and other OpenTelemetry users in the process do not mix.
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Six digits in a row may be a birth date, a national id or a phone number (as in metrics.ts). */
const DIGIT_RUN = /\d{6,}/;
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,47}$/;

/** A caller chooses the operation name: kept only when it is a plain identifier without a digit run. */
function safeOperationName(name: string | null | undefined): string | undefined {
  if (!name) return undefined;
  return IDENTIFIER.test(name) && !DIGIT_RUN.test(name) ? name : 'other';
}

export function createOtelTracing(options: { url: string; serviceName: string }): Tracing {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: options.url }))],
  });
  const tracer = provider.getTracer('nordgraph');
  const current = new AsyncLocalStorage<Span>();

  return {
    operation(run) {
      const span = tracer.startSpan('graphql', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
      return current.run(span, async () => {
        try {
          return await run();
        } catch (err) {
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw err;
        } finally {
          span.end();
        }
      });
    },
    apolloPlugin() {
      return {
        async requestDidStart() {
          const span = current.getStore();
          if (!span) return;
          return {
            async didResolveOperation(rc) {
              const type = rc.operation?.operation ?? 'unknown';
              const name = safeOperationName(rc.operationName);
              span.updateName(name ? `${type} ${name}` : type);
              span.setAttribute('graphql.operation.type', type);
              if (name) span.setAttribute('graphql.operation.name', name);
            },
            async willSendResponse(rc) {
              const body = rc.response.body;
              const errors = body.kind === 'single' ? body.singleResult.errors : body.initialResult.errors;
              if (!errors?.length) return;
              // Codes only: messages may quote what the caller sent.
              const codes = [
                ...new Set(
                  errors.map((e) => {
                    const code = e.extensions?.code;
                    return typeof code === 'string' && ERROR_CODE.test(code) ? code : 'INTERNAL_SERVER_ERROR';
                  }),
                ),
              ];
              span.setAttribute('graphql.error.codes', codes);
              span.setStatus({ code: SpanStatusCode.ERROR });
            },
          };
        },
      };
    },
    onUpstreamCall(call) {
      const parent = current.getStore();
      const endpoint = endpointLabel(call.endpoint);
      // The hook runs when the call has ended: the span is back-dated by the call's duration.
      const endTime = Date.now();
      const span = tracer.startSpan(
        `${call.provider} ${call.method} ${endpoint}`,
        {
          kind: SpanKind.CLIENT,
          startTime: endTime - call.ms,
          attributes: {
            'nordgraph.provider': call.provider,
            'nordgraph.upstream.endpoint': endpoint,
            'http.request.method': call.method,
            ...(call.status === null ? {} : { 'http.response.status_code': call.status }),
          },
        },
        parent ? trace.setSpan(ROOT_CONTEXT, parent) : ROOT_CONTEXT,
      );
      if (call.status === null || call.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end(endTime);
    },
    async shutdown() {
      await provider.shutdown();
    },
  };
}
