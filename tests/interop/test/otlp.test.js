'use strict'
// The OpenTelemetry JS logs SDK with the OTLP/HTTP protobuf and JSON exporters: resource, scope and log
// attributes must land as stream labels and structured metadata as spec §3 maps them.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const api = require('@opentelemetry/api')
const { SeverityNumber } = require('@opentelemetry/api-logs')
const { LoggerProvider, SimpleLogRecordProcessor } = require('@opentelemetry/sdk-logs')
const { resourceFromAttributes } = require('@opentelemetry/resources')
const { OTLPLogExporter: ProtoExporter } = require('@opentelemetry/exporter-logs-otlp-proto')
const { OTLPLogExporter: JsonExporter } = require('@opentelemetry/exporter-logs-otlp-http')
const { startServer } = require('../lib/server')
const { readBack, msToNs, eventually } = require('../lib/loki')

let server
before(async () => { server = await startServer() })
after(async () => { await server?.stop() })

const traceId = '0af7651916cd43dd8448eb211c80319c'
const spanId = 'b7ad6b7169203331'

for (const [encoding, Exporter] of [['protobuf', ProtoExporter], ['json', JsonExporter]]) {
  test(`OTLP ${encoding} exporter: labels and structured metadata follow Loki's OTLP mapping`, async () => {
    const service = `otel-${encoding}`
    const exporter = new Exporter({ url: `${server.url}/otlp/v1/logs` })
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({
        'service.name': service, // default-list resource attributes become labels ...
        'service.namespace': 'shop',
        'k8s.pod.name': 'pod-1',
        'deployment.environment': 'test',
        'host.name': 'host-1', // ... every other resource attribute becomes structured metadata
        'process.pid': 4242
      }),
      processors: [new SimpleLogRecordProcessor({ exporter })]
    })
    const logger = provider.getLogger('checkout.scope', '1.2.3', { attributes: { 'scope.attr': 'sa' } })
    const spanContext = api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId, spanId, traceFlags: api.TraceFlags.SAMPLED })
    const t0 = Date.now() - 60_000
    logger.emit({
      timestamp: t0,
      observedTimestamp: t0 + 5,
      severityNumber: SeverityNumber.ERROR,
      severityText: 'ERROR',
      body: 'payment failed',
      attributes: { 'user.id': 'u1', 'http.status_code': 502, retry: true, ratio: 0.5, nested: { a: { b: 'c' } } },
      context: spanContext
    })
    logger.emit({
      timestamp: t0 + 1,
      observedTimestamp: t0 + 6,
      severityNumber: SeverityNumber.INFO,
      body: { msg: 'structured body', n: 1 },
      eventName: 'checkout.done'
    })
    await provider.forceFlush()
    await provider.shutdown()

    const labels = { deployment_environment: 'test', k8s_pod_name: 'pod-1', service_name: service, service_namespace: 'shop' }
    const common = { host_name: 'host-1', process_pid: '4242', scope_attr: 'sa', scope_name: 'checkout.scope', scope_version: '1.2.3' }
    const expected = [
      {
        labels,
        ts: msToNs(t0),
        line: 'payment failed',
        metadata: {
          ...common,
          detected_level: 'error', // Loki's level discovery from the severity
          flags: '1',
          http_status_code: '502',
          nested_a_b: 'c', // maps flattened as parent_child
          observed_timestamp: msToNs(t0 + 5),
          ratio: '0.5',
          retry: 'true',
          severity_number: '17',
          severity_text: 'ERROR',
          span_id: spanId,
          trace_id: traceId,
          user_id: 'u1'
        }
      },
      {
        labels,
        ts: msToNs(t0 + 1),
        line: '{"msg":"structured body","n":1}', // map bodies rendered as JSON
        metadata: {
          ...common,
          detected_level: 'info',
          event_name: 'checkout.done',
          observed_timestamp: msToNs(t0 + 6),
          severity_number: '9'
        }
      }
    ]
    const got = await eventually(async () => {
      const r = await readBack(server.url, `{service_name="${service}"}`)
      return r.length >= expected.length && r
    }, 10_000, `${service} entries`)
    assert.deepEqual(got, expected)
  })
}

test('OTLP exporter without service.name: service_name falls back to unknown_service', async () => {
  const exporter = new ProtoExporter({ url: `${server.url}/otlp/v1/logs` })
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'k8s.namespace.name': 'otel-fallback-ns' }),
    processors: [new SimpleLogRecordProcessor({ exporter })]
  })
  const t0 = Date.now() - 30_000
  provider.getLogger('fallback').emit({ timestamp: t0, body: 'no service name' })
  await provider.forceFlush()
  await provider.shutdown()
  const got = await eventually(async () => {
    const r = await readBack(server.url, '{k8s_namespace_name="otel-fallback-ns"}')
    return r.length >= 1 && r
  }, 10_000, 'the fallback entry')
  assert.equal(got.length, 1)
  assert.deepEqual(got[0].labels, { k8s_namespace_name: 'otel-fallback-ns', service_name: 'unknown_service' })
  assert.equal(got[0].ts, msToNs(t0))
  assert.equal(got[0].line, 'no service name')
  assert.equal(got[0].metadata.scope_name, 'fallback')
})
