'use strict'
// The `ws` WebSocket client tailing /loki/api/v1/tail (as Grafana's live tail does) while another client pushes.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const WebSocket = require('ws')
const { startServer, sleep } = require('../lib/server')
const { params, eventually } = require('../lib/loki')

let server
before(async () => { server = await startServer() })
after(async () => { await server?.stop() })

async function push (streams) {
  const response = await fetch(`${server.url}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ streams })
  })
  assert.equal(response.status, 204, await response.text())
}

const nowNs = () => BigInt(Date.now()) * 1_000_000n

/** Opens a tail; resolves once the upgrade succeeded, rejects with the HTTP status and body when refused. */
function openTail (query, extra = {}) {
  const url = `ws://127.0.0.1:${server.httpPort}/loki/api/v1/tail?` + params({ query, ...extra })
  const ws = new WebSocket(url)
  const frames = []
  ws.on('message', (data, isBinary) => frames.push({ data: data.toString(), isBinary }))
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, frames }))
    ws.once('unexpected-response', (request, response) => {
      let body = ''
      response.on('data', d => { body += d })
      response.on('end', () => reject(Object.assign(new Error(`tail refused: ${response.statusCode} ${body}`), { statusCode: response.statusCode, body })))
    })
    ws.once('error', reject)
  })
}

test('ws: tailing receives history since start and live pushes from another client, filtered by the pipeline', async () => {
  const historyTs = nowNs() - 10_000_000_000n
  await push([{ stream: { app: 'tail-app', pod: 'p1' }, values: [[historyTs.toString(), 'history keep 0'], [(historyTs + 1n).toString(), 'history drop 0']] }])

  const { ws, frames } = await openTail('{app="tail-app"} |= "keep"', { start: (nowNs() - 60_000_000_000n).toString() })
  try {
    const received = () => frames.flatMap(f => {
      const body = JSON.parse(f.data)
      return body.streams.flatMap(s => s.values.map(v => ({ stream: s.stream, value: v })))
    })
    const expected = [{ pod: 'p1', ts: historyTs.toString(), line: 'history keep 0' }]
    // The server subscribes to live pushes once the upgrade is done and then sends the history, so the history
    // frame (what a Grafana user sees first) marks the point from which live pushes are guaranteed to arrive.
    await eventually(() => received().length >= 1, 10_000, 'the history entry')
    // Another client pushes while the tail is open: several requests, two streams, lines the filter drops.
    for (let batch = 0; batch < 5; batch++) {
      const base = nowNs()
      const streams = ['p1', 'p2'].map((pod, p) => ({
        stream: { app: 'tail-app', pod },
        values: [0, 1].map(i => [(base + BigInt(p * 10 + i)).toString(), `live ${i % 2 ? 'drop' : 'keep'} ${batch}-${pod}-${i}`])
      }))
      for (const s of streams) {
        for (const [ts, line] of s.values) if (line.includes('keep')) expected.push({ pod: s.stream.pod, ts, line })
      }
      await push(streams)
      await sleep(100)
    }

    await eventually(() => received().length >= expected.length, 10_000, `${expected.length} tailed entries`)
    await sleep(300) // anything the filter should have dropped would arrive by now

    for (const frame of frames) {
      assert.equal(frame.isBinary, false, 'tail frames are text')
      const body = JSON.parse(frame.data)
      assert.ok(Array.isArray(body.streams), `frame without streams: ${frame.data}`)
      assert.ok(!('dropped_entries' in body) || Array.isArray(body.dropped_entries))
    }
    const got = received().map(({ stream, value }) => {
      // Grafana reads streams[].stream and values[[ts, line]] (spec §11): exactly two strings, ts in ns.
      assert.equal(value.length, 2, JSON.stringify(value))
      assert.match(value[0], /^\d{19}$/)
      assert.equal(stream.app, 'tail-app')
      return { pod: stream.pod, ts: value[0], line: value[1] }
    })
    const byTs = (a, b) => (BigInt(a.ts) < BigInt(b.ts) ? -1 : BigInt(a.ts) > BigInt(b.ts) ? 1 : 0)
    assert.deepEqual(got.sort(byTs), expected.sort(byTs))
  } finally {
    ws.close(1000)
  }
})

test('ws: a tail with an invalid query is refused with 400 before the upgrade', async () => {
  await assert.rejects(openTail('{app="tail-app"'), err => {
    assert.equal(err.statusCode, 400)
    assert.match(err.body, /parse error/)
    return true
  })
})
