'use strict'
// winston-loki: JSON and protobuf+snappy transports, stream labels, per-log labels, batching, and exact timestamps.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const winston = require('winston')
const LokiTransport = require('winston-loki')
const { startServer } = require('../lib/server')
const { readBack, msToNs, eventually } = require('../lib/loki')

let server
before(async () => { server = await startServer() })
after(async () => { await server?.stop() })

function transport (options) {
  const errors = []
  const t = new LokiTransport({
    host: server.url,
    interval: 1,
    replaceTimestamp: false, // keep our timestamps so they can be asserted
    gracefulShutdown: false,
    onConnectionError: e => errors.push(e),
    ...options
  })
  return { t, errors }
}

const levels = ['info', 'warn', 'error']

test('winston-loki JSON mode: batched lines with labels, structured metadata and timestamps', async () => {
  const { t, errors } = transport({ json: true, labels: { app: 'winston-json', env: 'test' } })
  assert.equal(t.batcher.contentType, 'application/json')
  const logger = winston.createLogger({ level: 'debug', transports: [t] })
  const base = Date.now() - 60_000
  const expected = []
  for (let i = 0; i < 30; i++) {
    const level = levels[i % 3]
    const component = i % 2 ? 'api' : 'worker'
    logger.log({ level, message: `winston json line ${i}`, timestamp: new Date(base + i).toISOString(), labels: { component }, user: `u${i}` })
    expected.push({
      // Loki's distributor adds service_name from the app label (discover_service_name).
      labels: { app: 'winston-json', component, env: 'test', level, service_name: 'winston-json' },
      ts: msToNs(base + i),
      line: `winston json line ${i} ${JSON.stringify({ level, user: `u${i}` })}`,
      // winston-loki sends the remaining meta as structured metadata; `level` collides with the stream label
      // of the same name, which Loki reports as `level_extracted`; detected_level is Loki's level discovery.
      metadata: { detected_level: level, level_extracted: level, user: `u${i}` }
    })
  }
  // All 30 logs go out in the batcher's next interval as one push of several streams.
  await new Promise(resolve => setTimeout(resolve, 50))
  await t.flush()
  assert.deepEqual(errors, [])
  const got = await eventually(async () => {
    const r = await readBack(server.url, '{app="winston-json"}')
    return r.length >= expected.length && r
  }, 10_000, '30 winston JSON entries')
  assert.deepEqual(got, expected)
  await t.close()
})

test('winston-loki protobuf+snappy mode: batched and unbatched pushes', async () => {
  const format = winston.format.printf(info => `${info.level}: ${info.message}`)
  const batched = transport({ json: false, labels: { app: 'winston-proto', mode: 'batched' }, format })
  const unbatched = transport({ json: false, batching: false, labels: { app: 'winston-proto', mode: 'single' }, format })
  // The transport falls back to JSON when the snappy binding is missing; this test is about protobuf.
  assert.equal(batched.t.batcher.contentType, 'application/x-protobuf', 'snappy did not load: winston-loki fell back to JSON')
  assert.equal(unbatched.t.batcher.contentType, 'application/x-protobuf')
  const logger = winston.createLogger({ level: 'debug', transports: [batched.t, unbatched.t] })
  const base = Date.now() - 30_000
  const expected = []
  for (let i = 0; i < 20; i++) {
    const level = levels[i % 3]
    // Sub-millisecond precision is not representable in winston; distinct milliseconds per entry.
    logger.log({ level, message: `proto line ${i} ünïcode ✓`, timestamp: new Date(base + i * 7).toISOString() })
    for (const mode of ['batched', 'single']) {
      expected.push({
        labels: { app: 'winston-proto', level, mode, service_name: 'winston-proto' },
        ts: msToNs(base + i * 7),
        line: `${level}: proto line ${i} ünïcode ✓`,
        metadata: { detected_level: level }
      })
    }
  }
  await new Promise(resolve => setTimeout(resolve, 50))
  await Promise.all([batched.t.flush(), unbatched.t.flush()])
  assert.deepEqual(batched.errors, [])
  assert.deepEqual(unbatched.errors, [])
  const got = await eventually(async () => {
    const r = await readBack(server.url, '{app="winston-proto"}')
    return r.length >= expected.length && r
  }, 10_000, '40 winston protobuf entries')
  const order = (a, b) => (a.ts === b.ts ? (a.labels.mode < b.labels.mode ? -1 : 1) : (BigInt(a.ts) < BigInt(b.ts) ? -1 : 1))
  assert.deepEqual(got.sort(order), expected.sort(order))
  await batched.t.close()
  await unbatched.t.close()
})
