'use strict'
// Starts the real LokiSharp server (the built lokisharp.dll) on free loopback ports in a temporary working
// directory, waits for /ready and stops it again. The dll comes from LOKISHARP_DLL (set by the dotnet test that
// drives this suite), else from the Debug build output of src/Server.
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const defaultDll = path.resolve(__dirname, '../../../src/Server/bin/Debug/net10.0/lokisharp.dll')

function freePort () {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

async function startServer () {
  const dll = process.env.LOKISHARP_DLL || defaultDll
  if (!fs.existsSync(dll)) {
    throw new Error(`lokisharp.dll not found at ${dll}: build src/Server or set LOKISHARP_DLL`)
  }
  const httpPort = await freePort()
  const grpcPort = await freePort()
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lokisharp-interop-'))
  const dotnet = process.env.DOTNET_HOST_PATH || 'dotnet'
  const child = spawn(dotnet, [dll, `-server.http-listen-port=${httpPort}`, `-server.grpc-listen-port=${grpcPort}`], {
    cwd: workDir,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', d => { output += d })
  child.stderr.on('data', d => { output += d })
  let exited = null
  const exit = new Promise(resolve => child.on('exit', code => { exited = code; resolve() }))

  const url = `http://127.0.0.1:${httpPort}`
  const server = {
    url,
    httpPort,
    grpcPort,
    get output () { return output },
    async stop () {
      if (exited === null) {
        child.kill('SIGKILL')
        await exit
      }
      fs.rmSync(workDir, { recursive: true, force: true })
    }
  }

  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (exited !== null) {
      await server.stop()
      throw new Error(`lokisharp exited with ${exited} before becoming ready:\n${output}`)
    }
    try {
      const response = await fetch(`${url}/ready`)
      if (response.status === 200) return server
    } catch {
      // Not listening yet.
    }
    await sleep(100)
  }
  await server.stop()
  throw new Error(`lokisharp did not become ready within 60s:\n${output}`)
}

module.exports = { startServer, sleep }
