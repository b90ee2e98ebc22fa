'use strict'
// Reads the LogQL test corpus (tests/LokiSharp.LogQL.Tests/QueryCases.cs) so the interop suite always checks
// exactly the queries our parser tests use: the Valid table (query, canonical form) and the Invalid table
// (query, Loki's error message). Only C# regular string literals occur there, a long one split into adjacent
// literals joined by `+` (the line length limit); they are decoded and joined here.
const fs = require('node:fs')
const path = require('node:path')

const corpusFile = path.resolve(__dirname, '../../LokiSharp.LogQL.Tests/QueryCases.cs')

const simpleEscapes = { "'": "'", '"': '"', '\\': '\\', 0: '\0', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' }

/** Decodes the C# string literal starting at text[start] === '"'; returns [value, index after the literal]. */
function readLiteral (text, start) {
  let value = ''
  let i = start + 1
  for (;;) {
    const c = text[i]
    if (c === undefined || c === '\n') throw new Error(`unterminated string literal at offset ${start} of ${corpusFile}`)
    if (c === '"') return [value, i + 1]
    if (c !== '\\') { value += c; i++; continue }
    const e = text[i + 1]
    if (e in simpleEscapes) { value += simpleEscapes[e]; i += 2 } else if (e === 'u') {
      value += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16)); i += 6
    } else if (e === 'U') {
      value += String.fromCodePoint(parseInt(text.slice(i + 2, i + 10), 16)); i += 10
    } else if (e === 'x') {
      const hex = /^[0-9a-fA-F]{1,4}/.exec(text.slice(i + 2))[0]
      value += String.fromCharCode(parseInt(hex, 16)); i += 2 + hex.length
    } else {
      throw new Error(`unknown escape \\${e} at offset ${i} of ${corpusFile}`)
    }
  }
}

/** Decodes the literal at text[start] and any `+ "..."` literals after it; returns [value, index after the last]. */
function readConcatenation (text, start) {
  let [value, end] = readLiteral(text, start)
  for (let plus; (plus = /^\s*\+\s*"/.exec(text.slice(end)));) {
    const [next, afterNext] = readLiteral(text, end + plus[0].length - 1)
    value += next
    end = afterNext
  }
  return [value, end]
}

/** The (string, string) tuples of the collection initialiser `public static readonly ... <name> = [ ... ];`. */
function readTable (text, name) {
  const header = new RegExp(`\\b${name} =\\s*\\[`).exec(text)
  if (!header) throw new Error(`table ${name} not found in ${corpusFile}`)
  const rows = []
  let i = header.index + header[0].length
  let tupleStarts = 0
  for (;;) {
    const c = text[i]
    if (c === undefined) throw new Error(`table ${name} is not terminated in ${corpusFile}`)
    if (c === ']') break
    if (c === '/' && text[i + 1] === '/') { i = text.indexOf('\n', i); continue }
    if (c === '(') tupleStarts++
    if (c === '"') {
      const [first, afterFirst] = readConcatenation(text, i)
      const comma = /^\s*,\s*"/.exec(text.slice(afterFirst))
      if (!comma) throw new Error(`expected a second string after ${JSON.stringify(first)} in ${name}`)
      const [second, afterSecond] = readConcatenation(text, afterFirst + comma[0].length - 1)
      rows.push([first, second])
      i = afterSecond
      continue
    }
    i++
  }
  if (rows.length !== tupleStarts) throw new Error(`table ${name}: ${tupleStarts} tuples but ${rows.length} string pairs read`)
  return rows
}

function loadCorpus () {
  const text = fs.readFileSync(corpusFile, 'utf8')
  return {
    valid: readTable(text, 'Valid').map(([query, canonical]) => ({ query, canonical })),
    invalid: readTable(text, 'Invalid').map(([query, error]) => ({ query, error }))
  }
}

module.exports = { loadCorpus, corpusFile }
