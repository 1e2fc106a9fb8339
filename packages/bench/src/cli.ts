#!/usr/bin/env node
// `npm run bench`: measures the production stack on this machine and prints a table
// (`--json FILE` for every figure). `profile <files|dirs>` summarises .cpuprofile files.
import { writeFile } from 'node:fs/promises'
import { HELP, parseCommand, UsageError, type BenchOptions, type ProfileCommand } from './args.js'
import { runBench, Teardown } from './bench.js'
import { profileFiles, profilePid, renderProfileSummary, summarizeProfileFile } from './profile.js'
import { renderReport, toJson } from './report.js'
import type { BenchResult } from './types.js'

const t0 = performance.now()
const log = (message: string): void => { process.stderr.write(`[bench +${((performance.now() - t0) / 1000).toFixed(1)}s] ${message}\n`) }

async function printProfiles (paths: string[], top: number, pids?: ReadonlySet<number>): Promise<void> {
  const files = await profileFiles(paths)
  if (files.length === 0) {
    process.stdout.write('no .cpuprofile files found\n')
    return
  }
  for (const file of files) {
    const pid = profilePid(file)
    if (pids !== undefined && (pid === null || !pids.has(pid))) continue
    process.stdout.write(renderProfileSummary(file, await summarizeProfileFile(file, top)) + '\n\n')
  }
}

async function profileCommand (command: ProfileCommand): Promise<number> {
  await printProfiles(command.paths, command.top)
  return 0
}

async function benchCommand (options: BenchOptions): Promise<number> {
  const teardown = new Teardown()
  let interrupted: NodeJS.Signals | undefined
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted !== undefined) return
    interrupted = signal
    log(`${signal}: tearing down`)
    teardown.run(log).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  let result: BenchResult | undefined
  try {
    result = await runBench(options, teardown, log, ['bench', ...process.argv.slice(2)].join(' '))
  } catch (err) {
    if (interrupted === undefined) log(`failed: ${(err as Error).stack ?? String(err)}`)
  } finally {
    if (interrupted === undefined) {
      log('tearing down')
      await teardown.run(log)
    }
  }
  if (interrupted !== undefined) return await new Promise<number>(() => {})
  if (result === undefined) return 1

  process.stdout.write('\n' + renderReport(result))
  if (options.jsonFile !== undefined) {
    await writeFile(options.jsonFile, toJson(result))
    log(`JSON written to ${options.jsonFile}`)
  }
  if (options.cpuProfDir !== undefined) {
    // Profiles are written when the workers exit, i.e. during teardown.
    process.stdout.write(`\nCPU profiles of the API workers (${options.cpuProfDir}):\n\n`)
    await printProfiles([options.cpuProfDir], 20, new Set(result.workers.map((w) => w.pid)))
  }
  const missed = result.goals.filter((g) => g.met === false)
  return options.failOnGoals && missed.length > 0 ? 1 : 0
}

async function main (): Promise<number> {
  let command
  try {
    command = parseCommand(process.argv.slice(2))
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`${err.message}\n\n${HELP}\n`)
    return 2
  }
  if (command.command === 'help') {
    process.stdout.write(HELP + '\n')
    return 0
  }
  if (command.command === 'profile') return await profileCommand(command)
  return await benchCommand(command)
}

process.exitCode = await main()
