'use strict'
// A replay of what Grafana's Loki datasource and the Logs Drilldown app send (spec §11), checking the fields
// Grafana reads from each answer.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { startServer } = require('../lib/server')
const { getJson, params, entries, CATEGORIZE } = require('../lib/loki')

let server
let start // ns, before the first entry
let end // ns, after the last entry
const pushed = [] // { ts, line, pod, level }
const levels = ['info', 'info', 'warn', 'error']

before(async () => {
  server = await startServer()
  const now = BigInt(Date.now()) * 1_000_000n
  const first = now - 40n * 60n * 1_000_000_000n + 500_000_000n // 40 minutes ago, half a second past a whole second
  const streams = {}
  for (let i = 0; i < 120; i++) {
    const pod = i % 2 ? 'p2' : 'p1'
    const level = levels[i % levels.length]
    const status = level === 'error' ? 500 : 200
    const ts = (first + BigInt(i) * 20_000_000_000n).toString()
    const line = `level=${level} msg="request ${i}" status=${status} duration=${10 + i}ms`
    const metadata = i % 3 === 0 ? { trace_id: `trace${i}` } : {}
    pushed.push({ ts, line, pod, level, metadata })
    ;(streams[pod] ??= { stream: { app: 'shop', env: 'prod', pod }, values: [] }).values.push([ts, line, metadata])
  }
  const response = await fetch(`${server.url}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ streams: Object.values(streams) })
  })
  assert.equal(response.status, 204, await response.text())
  start = first - 60_000_000_000n
  end = now + 1_000_000_000n
})
after(async () => { await server?.stop() })

const lineBytes = () => pushed.reduce((n, p) => n + Buffer.byteLength(p.line), 0)
const get = (path, values, headers) => getJson(server.url, `/loki/api/v1/${path}?${params(values)}`, headers)
const tags = source => ({ 'X-Query-Tags': `Source=${source}` })

test('health check: vector(1)+vector(1) at time=4000000000 answers one sample equal to 2', async () => {
  const body = await get('query', { query: 'vector(1)+vector(1)', direction: 'backward', time: 4000000000 })
  assert.equal(body.status, 'success')
  assert.equal(body.data.resultType, 'vector')
  assert.equal(body.data.result.length, 1)
  assert.deepEqual(body.data.result[0].value, [4000000000, '2'])
})

test('label browser: labels, label values, series and index stats with ns start/end', async () => {
  const labels = await get('labels', { start, end })
  assert.equal(labels.status, 'success')
  assert.deepEqual(labels.data, ['app', 'env', 'pod', 'service_name'])

  const values = await get('label/pod/values', { start, end, query: '{app="shop"}' })
  assert.deepEqual(values.data, ['p1', 'p2'])
  const none = await get('label/pod/values', { start, end, query: '{app="nothing"}' })
  assert.equal(none.status, 'success')
  assert.ok(none.data === undefined || none.data.length === 0, 'Grafana reads a missing data as []')

  const series = await get('series', { 'match[]': '{app="shop"}', start, end })
  assert.deepEqual(series.data, [
    { app: 'shop', env: 'prod', pod: 'p1', service_name: 'shop' },
    { app: 'shop', env: 'prod', pod: 'p2', service_name: 'shop' }
  ])

  // Grafana's query-size hint sums these four fields.
  const stats = await get('index/stats', { query: '{app="shop"}', start, end })
  assert.deepEqual(Object.keys(stats).sort(), ['bytes', 'chunks', 'entries', 'streams'])
  assert.equal(stats.streams, 2)
  assert.equal(stats.entries, 120)
  // Bytes count the lines plus their structured metadata (as Loki's chunk sizes do), so at least the lines.
  assert.ok(stats.bytes >= lineBytes(), `${stats.bytes} bytes`)
  assert.ok(stats.chunks >= 2)
})

test('log volume histogram: sum by (level, detected_level) of count_over_time | drop __error__', async () => {
  const body = await get('query_range', {
    query: 'sum by (level, detected_level) (count_over_time({app="shop"} | drop __error__[60s]))',
    direction: 'backward', limit: 1000, start, end, step: '60000ms'
  }, { ...CATEGORIZE, ...tags('logvolhist') })
  assert.equal(body.status, 'success')
  assert.equal(body.data.resultType, 'matrix')
  const totals = {}
  for (const series of body.data.result) {
    assert.deepEqual(Object.keys(series.metric), ['detected_level'])
    for (const [t, v] of series.values) {
      assert.equal(typeof t, 'number')
      assert.equal(typeof v, 'string')
      totals[series.metric.detected_level] = (totals[series.metric.detected_level] ?? 0) + Number(v)
    }
  }
  assert.deepEqual(totals, { error: 30, info: 60, warn: 30 })
  assert.equal(typeof body.data.stats.summary.totalBytesProcessed, 'number')
})

test('logs sample and data samples: categorized streams, limits 100 and 10', async () => {
  const response = await fetch(`${server.url}/loki/api/v1/query_range?` + params({ query: '{app="shop"}', direction: 'backward', limit: 100, start, end }), { headers: { ...CATEGORIZE, ...tags('logsample') } })
  assert.equal(response.status, 200)
  const text = await response.text()
  const body = JSON.parse(text)
  assert.equal(body.status, 'success')
  assert.equal(body.data.resultType, 'streams')
  assert.deepEqual(body.data.encodingFlags, ['categorize-labels'])
  assert.ok(text.indexOf('"encodingFlags"') < text.indexOf('"result"'), 'encodingFlags must precede result')
  const got = entries(body)
  assert.equal(got.length, 100)
  const newest = pushed.slice(-100)
  for (const e of got) {
    assert.deepEqual(Object.keys(e.stream).sort(), ['app', 'env', 'pod', 'service_name'])
    assert.match(e.ts, /^\d{19}$/)
    const p = newest.find(x => x.ts === e.ts)
    assert.ok(p, `unexpected entry ${e.ts}`)
    assert.equal(e.line, p.line)
    assert.equal(e.stream.pod, p.pod)
    // Exactly [ts, line, {structuredMetadata?, parsed?}], empty categories omitted.
    for (const key of Object.keys(e.meta)) assert.ok(key === 'structuredMetadata' || key === 'parsed', key)
    assert.equal(e.meta.structuredMetadata.trace_id, p.metadata.trace_id)
    assert.equal(e.meta.structuredMetadata.detected_level, p.level)
    assert.equal(e.meta.parsed, undefined)
  }
  for (const stream of body.data.result) {
    const ts = stream.values.map(v => BigInt(v[0]))
    assert.deepEqual(ts, [...ts].sort((a, b) => (a > b ? -1 : 1)), 'backward: newest first')
  }
  assert.equal(typeof body.data.stats.summary.totalBytesProcessed, 'number')
  assert.equal(typeof body.data.stats.summary.execTime, 'number')

  const sample = await get('query_range', { query: '{app="shop"} | logfmt', direction: 'backward', limit: 10, start, end }, { ...CATEGORIZE, ...tags('datasample') })
  const rows = entries(sample)
  assert.equal(rows.length, 10)
  for (const row of rows) {
    const p = pushed.find(x => x.ts === row.ts)
    assert.equal(row.meta.parsed.level, p.level)
    assert.equal(row.meta.parsed.status, p.level === 'error' ? '500' : '200')
  }
})

test('query splitting: consecutive sub-range queries return exactly the full range, after the shard probe', async () => {
  // Shard splitting first asks for the stream shards of the selector; without sharding there are none.
  const shards = await get('label/__stream_shard__/values', { query: '{app="shop"}', start, end })
  assert.equal(shards.status, 'success')
  assert.ok(shards.data === undefined || Array.isArray(shards.data))

  const query = '{app="shop"} |= "request"'
  const full = entries(await get('query_range', { query, direction: 'backward', limit: 1000, start, end }, CATEGORIZE))
  assert.equal(full.length, 120)
  // Grafana splits from the end backwards; boundaries between two entries.
  const cut1 = BigInt(pushed[80].ts) + 10_000_000_000n
  const cut2 = BigInt(pushed[40].ts) + 10_000_000_000n
  const parts = []
  for (const [s, e] of [[cut1, end], [cut2, cut1], [start, cut2]]) {
    parts.push(...entries(await get('query_range', { query, direction: 'backward', limit: 1000, start: s, end: e }, { ...CATEGORIZE, ...tags('infinitescroll') })))
  }
  const key = e => `${e.ts} ${e.stream.pod} ${e.line}`
  assert.equal(parts.length, 120)
  assert.deepEqual(parts.map(key).sort(), full.map(key).sort())
  assert.deepEqual(full.map(key).sort(), pushed.map(p => `${p.ts} ${p.pod} ${p.line}`).sort())
})

test('Logs Drilldown: volume, detected labels and fields, field values, labels, limits and metric query with ISO times', async () => {
  const headers = tags('grafana-lokiexplore-app')
  const iso = ns => new Date(Number(ns / 1_000_000n)).toISOString() // ISO-8601 with milliseconds
  const range = { start: iso(start), end: iso(end) }

  const volume = await get('index/volume', { query: '{service_name=~".+"}', ...range, limit: 5000 }, headers)
  assert.equal(volume.status, 'success')
  assert.equal(volume.data.resultType, 'vector')
  const shop = volume.data.result.find(r => r.metric.service_name === 'shop')
  assert.ok(shop, JSON.stringify(volume.data.result))
  const stats = await get('index/stats', { query: '{service_name="shop"}', start, end })
  assert.equal(Number(shop.value[1]), stats.bytes, 'volume and index stats count the same bytes')

  const selector = '{service_name="shop"}'
  const detectedLabels = await get('detected_labels', { query: selector, ...range }, headers)
  const pod = detectedLabels.detectedLabels.find(l => l.label === 'pod')
  assert.deepEqual(pod, { label: 'pod', cardinality: 2 })

  const fields = await get('detected_fields', { query: selector, ...range, limit: 1000 }, headers)
  const field = name => fields.fields.find(f => f.label === name)
  assert.equal(field('status').type, 'int')
  assert.deepEqual(field('status').parsers, ['logfmt'])
  assert.equal(field('duration').type, 'duration')
  assert.equal(field('trace_id').parsers, null) // structured metadata: Grafana relies on null here
  assert.equal(fields.limit, 1000)

  const statusValues = await get('detected_field/status/values', { query: selector, ...range, limit: 1000 }, headers)
  assert.deepEqual([...statusValues.values].sort(), ['200', '500'])

  const labels = await get('labels', range, headers)
  assert.ok(labels.data.includes('service_name'))

  const limits = await fetch(`${server.url}/loki/api/v1/drilldown-limits`, { headers })
  assert.equal(limits.status, 200)
  assert.equal(typeof (await limits.json()), 'object')

  const metric = await get('query_range', {
    query: `sum by (detected_level) (count_over_time(${selector} [15s]))`, ...range, step: '15s'
  }, headers)
  assert.equal(metric.data.resultType, 'matrix')
  const total = metric.data.result.reduce((n, s) => n + s.values.reduce((m, v) => m + Number(v[1]), 0), 0)
  assert.equal(total, 120)
})

test('Logs Drilldown: patterns answers Loki 3 shapes, or 404 when the pattern ingester is off', async () => {
  const response = await fetch(`${server.url}/loki/api/v1/patterns?` + params({ query: '{service_name="shop"}', start, end, step: '15s' }), { headers: tags('grafana-lokiexplore-app') })
  if (response.status === 404) return // Loki's default (pattern_ingester.enabled: false); Drilldown hides patterns
  const text = await response.text()
  assert.equal(response.status, 200, text)
  const body = JSON.parse(text)
  assert.equal(body.status, 'success')
  assert.ok(Array.isArray(body.data))
  for (const p of body.data) {
    assert.equal(typeof p.pattern, 'string')
    assert.ok(Array.isArray(p.samples))
    for (const [t, count] of p.samples) {
      assert.ok(Number.isInteger(t) && Number.isInteger(count))
    }
  }
})
