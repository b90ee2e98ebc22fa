'use strict'
// Small helpers to read back through Loki's HTTP query API, as a client would.
const { sleep } = require('./server')

async function getJson (base, pathAndQuery, headers = {}) {
  const response = await fetch(base + pathAndQuery, { headers })
  const text = await response.text()
  if (response.status !== 200) {
    throw new Error(`GET ${pathAndQuery} -> ${response.status}: ${text}`)
  }
  return JSON.parse(text)
}

function params (values) {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) search.append(key, String(v))
  }
  return search.toString()
}

/** query_range over the last hour (or the given window), forward, with a generous limit. */
function queryRange (base, query, extra = {}, headers = {}) {
  const end = BigInt(Date.now() + 60_000) * 1_000_000n
  const start = end - 2n * 3600n * 1_000_000_000n
  return getJson(base, '/loki/api/v1/query_range?' + params({
    query, start, end, limit: 1000, direction: 'forward', ...extra
  }), headers)
}

/** Every [stream labels, ts, line, metadata?] entry of a streams result, in result order. */
function entries (body) {
  const out = []
  for (const stream of body.data.result) {
    for (const value of stream.values) {
      out.push({ stream: stream.stream, ts: value[0], line: value[1], meta: value[2] })
    }
  }
  return out
}

/** Polls fn until it returns a truthy value; fails with the last value after the timeout. */
async function eventually (fn, timeoutMs = 15_000, what = 'condition') {
  const deadline = Date.now() + timeoutMs
  let last
  while (Date.now() < deadline) {
    last = await fn()
    if (last) return last
    await sleep(200)
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`)
}

module.exports = { getJson, params, queryRange, entries, eventually }

/** The header Grafana sends so stream labels, structured metadata and parsed labels come back separated. */
const CATEGORIZE = { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' }

/**
 * Reads back a selector with categorize-labels and returns its entries sorted by timestamp then line, each as
 * { labels, ts, line, metadata } with labels the indexed stream labels and metadata the structured metadata.
 */
async function readBack (base, selector) {
  const body = await queryRange(base, selector, {}, CATEGORIZE)
  if (body.status !== 'success' || body.data.resultType !== 'streams') {
    throw new Error('unexpected response: ' + JSON.stringify(body))
  }
  return entries(body)
    .map(e => ({ labels: e.stream, ts: e.ts, line: e.line, metadata: (e.meta && e.meta.structuredMetadata) || {} }))
    .sort((a, b) => (BigInt(a.ts) < BigInt(b.ts) ? -1 : BigInt(a.ts) > BigInt(b.ts) ? 1 : a.line < b.line ? -1 : 1))
}

/** Milliseconds since the epoch as Loki's nanosecond timestamp string. */
const msToNs = ms => (BigInt(ms) * 1_000_000n).toString()

module.exports.CATEGORIZE = CATEGORIZE
module.exports.readBack = readBack
module.exports.msToNs = msToNs
