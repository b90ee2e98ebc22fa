'use strict'
// pino-loki: pino's JSON lines shipped in batches with labels, level mapping, structured metadata and the
// timestamps pino stamped.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const pino = require('pino')
const { pinoLoki } = require('pino-loki')
const { startServer } = require('../lib/server')
const { readBack, msToNs, eventually } = require('../lib/loki')

let server
before(async () => { server = await startServer() })
after(async () => { await server?.stop() })

test('pino-loki: batched JSON lines with labels, levels, structured metadata and timestamps', async () => {
  const errors = []
  const originalError = console.error
  console.error = (...args) => errors.push(args.join(' ')) // pino-loki reports push failures here
  try {
    const stream = pinoLoki({
      host: server.url,
      batching: true,
      interval: 1,
      labels: { app: 'pino-app', env: 'test' },
      propsToLabels: ['component'],
      structuredMetaKey: 'meta'
    })
    const base = Date.now() - 60_000
    let now = base
    // A deterministic clock, set before each call, so every timestamp can be asserted.
    const logger = pino({ base: null, level: 'debug', timestamp: () => `,"time":${now}` }, stream)
    const pinoLevels = { debug: 20, info: 30, warn: 40, error: 50, fatal: 60 }
    const lokiLevels = { debug: 'debug', info: 'info', warn: 'warning', error: 'error', fatal: 'critical' }
    const detected = { debug: 'debug', info: 'info', warn: 'warn', error: 'error', fatal: 'critical' }
    const expected = []
    const names = Object.keys(pinoLevels)
    for (let i = 0; i < 25; i++) {
      const level = names[i % names.length]
      const component = i % 2 ? 'db' : 'http'
      const meta = { traceId: `t${i}` }
      now = base + i
      logger[level]({ component, requestId: i, meta }, `pino message ${i}`)
      expected.push({
        labels: { app: 'pino-app', component, env: 'test', level: lokiLevels[level], service_name: 'pino-app' },
        ts: msToNs(base + i),
        line: JSON.stringify({ level: pinoLevels[level], time: base + i, component, requestId: i, meta, msg: `pino message ${i}` }),
        // detected_level: Loki's level discovery from the `level` label (warning -> warn).
        metadata: { detected_level: detected[level], traceId: `t${i}` }
      })
    }
    stream.end()
    await once(stream, 'close') // pino-loki sends what is left in its batch on close
    const got = await eventually(async () => {
      const r = await readBack(server.url, '{app="pino-app"}')
      return r.length >= expected.length && r
    }, 10_000, '25 pino entries')
    assert.deepEqual(errors, [])
    assert.deepEqual(got, expected)
  } finally {
    console.error = originalError
  }
})
