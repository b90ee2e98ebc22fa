'use strict'
// Grafana's LogQL grammar (@grafana/lezer-logql, what Grafana's query editor parses with) against our parser
// (through the server's /loki/api/v1/format_query): every query of our LogQL test corpus must get the same
// valid/invalid verdict from both, except the differences documented below.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { parser } = require('@grafana/lezer-logql')
const { startServer } = require('../lib/server')
const { loadCorpus, corpusFile } = require('../lib/corpus')

// Every query on which the two disagree, with the reason. `grammar` is the lezer verdict; ours is the opposite
// and matches Loki (our corpus records Loki's behaviour). The test fails on an undocumented disagreement and on
// a documented one that no longer disagrees, so this list stays exact.
const DIFFERENCES = [
  {
    grammar: 'invalid',
    reason: "Loki's lexer is Go's text/scanner, which skips Go // and /* */ comments; the lezer grammar knows only # comments",
    queries: ['{app="x"} // go comment', '{app="x"} /* block */ |= "y"']
  },
  {
    grammar: 'invalid',
    reason: "Loki's yacc grammar accepts label filters side by side as an implicit `and`; lezer requires `,`, `and` or `or` between them",
    queries: ['{app="x"} | a="1" b="2"', '{app="x"} | a="1" b="2" c="3" or d="4"']
  },
  {
    grammar: 'invalid',
    reason: "Loki's lexer looks keywords up lower-cased, so function and aggregation names are case-insensitive; lezer keywords are lower-case only",
    queries: ['COUNT_OVER_TIME({app="x"}[5m])', 'Count_Over_Time ({app="x"}[5m])', 'SUM by (a) (RATE({app="x"}[5m]))']
  },
  {
    grammar: 'invalid',
    reason: 'Loki parses a range duration with Go\'s duration parser, which accepts a bare "0"; lezer requires a unit',
    queries: ['count_over_time({app="x"}[0])']
  },
  {
    grammar: 'invalid',
    reason: "Loki's grammar accepts a parenthesised log expression before the range (`(<log expr>)[5m]`); lezer does not",
    queries: ['sum_over_time(({app="x"} | json | unwrap latency)[5m])']
  },
  {
    grammar: 'invalid',
    reason: "Loki converts number literals with Go's strconv.ParseFloat, which accepts hexadecimal floats with a p exponent; lezer's number token does not",
    queries: ['0x1p3']
  },
  {
    grammar: 'invalid',
    reason: "Go's text/scanner accepts Unicode letters in identifiers (label names); lezer identifiers are ASCII",
    queries: ['{ünïcode="x"}']
  },
  {
    grammar: 'valid',
    reason: 'Loki rejects selectors whose every matcher matches the empty string after parsing (validateMatchers); the grammar is syntax only',
    queries: ['{a=~".*"}', '{a=""}', '{a!="x"}', '{a!~"x"}', '{a="", b=~".*"}', 'sum(rate({a=~".*"}[5m]))']
  },
  {
    grammar: 'valid',
    reason: 'Loki checks the operand types of binary and set operations when building the AST (log expressions and literals are not allowed there); the grammar does not type-check',
    queries: ['{a="b"} + 1', '1 + {a="b"}', '{a="b"} |= "x" / 2', 'sum(rate({a="b"}[5m])) or 1', '1 and sum(rate({a="b"}[5m]))', 'sum(rate({a="b"}[5m])) unless 2']
  },
  {
    grammar: 'valid',
    reason: 'Loki validates range aggregations after parsing: unwrap required or forbidden per operation, a parameter only for quantile_over_time, no grouping on rate/count_over_time/... ; the grammar accepts the shapes',
    queries: [
      'count_over_time({a="b"} | unwrap x [5m])', 'bytes_over_time({a="b"} | unwrap x [5m])', 'bytes_rate({a="b"} | unwrap x [5m])',
      'sum_over_time({a="b"}[5m])', 'avg_over_time({a="b"}[5m])', 'quantile_over_time(0.9, {a="b"}[5m])', 'rate_counter({a="b"}[5m])',
      'first_over_time({a="b"}[5m])', 'quantile_over_time({a="b"} | unwrap x [5m])', 'count_over_time(5, {a="b"}[5m])',
      'rate({a="b"}[5m]) by (x)', 'count_over_time({a="b"}[5m]) by (x)', 'sum_over_time({a="b"} | unwrap x [5m]) by (x)'
    ]
  },
  {
    grammar: 'valid',
    reason: 'Loki validates vector aggregation parameters and grouping after parsing (topk/bottomk need a positive integer, sum takes none, approx_topk and sort take no grouping); the grammar accepts the shapes',
    queries: [
      'topk(rate({a="b"}[5m]))', 'topk(1.5, rate({a="b"}[5m]))', 'topk(0, rate({a="b"}[5m]))', 'bottomk(0, rate({a="b"}[5m]))',
      'sum(3, rate({a="b"}[5m]))', 'approx_topk(5, rate({a="b"}[5m])) by (a)', 'sort(rate({a="b"}[5m])) by (a)',
      'sort_desc by (a) (rate({a="b"}[5m]))'
    ]
  },
  {
    grammar: 'valid',
    reason: 'Loki compiles regular expressions and regexp/pattern parser expressions while parsing (bad syntax, no or duplicate captures, consecutive captures); to the grammar they are just strings',
    queries: [
      'label_replace(rate({a="b"}[5m]), "a", "b", "c", "(")', '{a="b"} | regexp "(a"', '{a="b"} | regexp "abc"',
      '{a="b"} | regexp "(?P<a>x)(?P<a>y)"', '{a="b"} | pattern "abc"', '{a="b"} | pattern "<a><b>"', '{a="b"} | pattern "<a> <a>"',
      '{a=~"("}', '{a="b"} | x=~"("'
    ]
  },
  {
    grammar: 'valid',
    reason: "Loki's lexer and strconv reject these literals (hex without a p exponent is not a float, 08 is a bad octal literal, \\q is not a Go escape, 1.5m is not a duration Loki's range parser takes); lezer's tokens are looser",
    queries: ['0x1A', 'vector(0x1A)', '{a="b"} | x > 0x1A', '{a="b"} | x > 08', '{a="b"} |= "\\q"', 'rate({a="b"}[1.5m])']
  }
]

function grammarAccepts (query) {
  let ok = true
  parser.parse(query).iterate({ enter: node => { if (node.type.isError) ok = false } })
  return ok
}

let server
let corpus
before(async () => {
  corpus = loadCorpus()
  server = await startServer()
})
after(async () => { await server?.stop() })

async function oursAccepts (query) {
  const response = await fetch(`${server.url}/loki/api/v1/format_query?query=${encodeURIComponent(query)}`)
  const body = await response.json()
  if (response.status === 200 && body.status === 'success') return { ok: true, body }
  if (response.status === 400 && body.status === 'invalid-query') return { ok: false, body }
  throw new Error(`format_query ${JSON.stringify(query)}: unexpected ${response.status} ${JSON.stringify(body)}`)
}

test('the corpus is read completely', () => {
  // Guards the C# table reader: both tables are large and every row decoded.
  assert.ok(corpus.valid.length >= 250, `only ${corpus.valid.length} valid queries read from ${corpusFile}`)
  assert.ok(corpus.invalid.length >= 90, `only ${corpus.invalid.length} invalid queries read from ${corpusFile}`)
  assert.ok(corpus.valid.some(c => c.query === '{app="uni\\u00e9"}' && c.canonical === '{app="unié"}'), 'C# escapes decoded')
})

test('our parser (format_query) gives every corpus query its corpus verdict', async () => {
  const wrong = []
  for (const { query, canonical } of corpus.valid) {
    const { ok, body } = await oursAccepts(query)
    if (!ok || body.data !== canonical) wrong.push(`valid ${JSON.stringify(query)} -> ${JSON.stringify(body)}`)
  }
  for (const { query, error } of corpus.invalid) {
    const { ok, body } = await oursAccepts(query)
    if (ok || body.error !== error) wrong.push(`invalid ${JSON.stringify(query)} -> ${JSON.stringify(body)}`)
  }
  assert.deepEqual(wrong, [])
})

test("Grafana's lezer-logql grammar and our parser agree on every corpus query, except the documented differences", async () => {
  const documented = new Map()
  for (const difference of DIFFERENCES) {
    for (const query of difference.queries) {
      assert.ok(!documented.has(query), `documented twice: ${query}`)
      documented.set(query, difference)
    }
  }
  const all = [...corpus.valid.map(c => c.query), ...corpus.invalid.map(c => c.query)]
  const undocumented = []
  const stale = []
  for (const query of all) {
    const ours = (await oursAccepts(query)).ok
    const grammar = grammarAccepts(query)
    const difference = documented.get(query)
    documented.delete(query)
    if (ours !== grammar && !difference) {
      undocumented.push(`${JSON.stringify(query)}: ours ${ours ? 'valid' : 'invalid'}, lezer ${grammar ? 'valid' : 'invalid'}`)
    } else if (difference && (ours === grammar || (grammar ? 'valid' : 'invalid') !== difference.grammar)) {
      stale.push(`${JSON.stringify(query)}: documented as lezer ${difference.grammar}, now ours ${ours ? 'valid' : 'invalid'}, lezer ${grammar ? 'valid' : 'invalid'}`)
    }
  }
  assert.deepEqual(undocumented, [], 'verdicts differ without a documented reason')
  assert.deepEqual(stale, [], 'documented differences that no longer hold')
  assert.deepEqual([...documented.keys()], [], 'documented differences for queries no longer in the corpus')
})
