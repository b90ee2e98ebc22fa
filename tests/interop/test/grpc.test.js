'use strict'
// loki-grpc-client: a push through the standard logproto.Pusher/Push service on the gRPC port, read back over HTTP.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const loki = require('loki-grpc-client')
const { startServer } = require('../lib/server')
const { readBack, eventually } = require('../lib/loki')

let server
before(async () => { server = await startServer() })
after(async () => { await server?.stop() })

// Documented difference: in Loki's single binary a gRPC push reaches the ingester directly and skips the
// distributor's enrichment (spec §10), so Loki stores exactly the labels and metadata sent. LokiSharp runs gRPC
// pushes through the same distributor path as HTTP pushes and adds service_name (from `app`) and
// detected_level (`unknown` for lines without a level). The values are asserted, so a change either way shows.
const GRPC_ENRICHMENT = {
  labels: app => ({ service_name: app }),
  metadata: { detected_level: 'unknown' }
}

function push (client, request, metadata) {
  return new Promise((resolve, reject) => {
    client.push(request, metadata, { deadline: Date.now() + 10_000 }, (err, response) => (err ? reject(err) : resolve(response)))
  })
}

function entry (seconds, nanos, line, metadata = {}) {
  const e = new loki.EntryAdapter()
  const ts = new loki.Timestamp()
  ts.setSeconds(seconds)
  ts.setNanos(nanos)
  e.setTimestamp(ts)
  e.setLine(line)
  for (const [name, value] of Object.entries(metadata)) {
    const pair = new loki.LabelPairAdapter()
    pair.setName(name)
    pair.setValue(value)
    e.addStructuredmetadata(pair)
  }
  return e
}

test('loki-grpc-client: Pusher.Push with labels, nanosecond timestamps and structured metadata', async () => {
  const client = new loki.PusherClient(`127.0.0.1:${server.grpcPort}`, loki.createInsecureCredentials())
  try {
    const seconds = Math.floor(Date.now() / 1000) - 60
    const request = new loki.PushRequest()
    const expected = []
    for (const [labels, app, region] of [['{app="grpc-app", region="eu"}', 'grpc-app', 'eu'], ['{app="grpc-app", region="us"}', 'grpc-app', 'us']]) {
      const stream = new loki.StreamAdapter()
      stream.setLabels(labels)
      for (let i = 0; i < 10; i++) {
        const nanos = i * 100_000_007 // sub-millisecond precision survives
        const metadata = i % 2 ? { trace_id: `trace-${region}-${i}` } : {}
        stream.addEntries(entry(seconds, nanos, `grpc ${region} line ${i}`, metadata))
        expected.push({
          labels: { app, region, ...GRPC_ENRICHMENT.labels(app) },
          ts: (BigInt(seconds) * 1_000_000_000n + BigInt(nanos)).toString(),
          line: `grpc ${region} line ${i}`,
          metadata: { ...metadata, ...GRPC_ENRICHMENT.metadata }
        })
      }
      request.addStreams(stream)
    }
    // Tenant header as a multi-tenant client sends it; with auth disabled the server uses `fake` regardless.
    const response = await push(client, request, loki.createOrgIdMetadata('fake'))
    assert.ok(response instanceof loki.PushResponse)

    const got = await eventually(async () => {
      const r = await readBack(server.url, '{app="grpc-app"}')
      return r.length >= expected.length && r
    }, 10_000, '20 gRPC entries')
    const order = (a, b) => (a.ts === b.ts ? (a.labels.region < b.labels.region ? -1 : 1) : (BigInt(a.ts) < BigInt(b.ts) ? -1 : 1))
    assert.deepEqual(got.sort(order), expected.sort(order))
  } finally {
    client.close()
  }
})

test('loki-grpc-client: an invalid label set is refused with a gRPC error', async () => {
  const client = new loki.PusherClient(`127.0.0.1:${server.grpcPort}`, loki.createInsecureCredentials())
  try {
    const request = new loki.PushRequest()
    const stream = new loki.StreamAdapter()
    stream.setLabels('{app=}')
    stream.addEntries(entry(Math.floor(Date.now() / 1000), 0, 'never stored'))
    request.addStreams(stream)
    await assert.rejects(push(client, request, loki.createOrgIdMetadata('fake')), err => {
      // dskit httpgrpc: the status code is the HTTP code, the details the text body (spec §10).
      assert.equal(err.code, 400)
      assert.match(err.details, /^error parsing labels '\{app=\}' with error: /)
      return true
    })
  } finally {
    client.close()
  }
})
