#!/usr/bin/env node
import { HELP, parseCliArgs, UsageError } from './args.js'
import { ProgressPrinter, renderScenario, renderSummary } from './report/console.js'
import { writeReports } from './report/json.js'
import { runLoadTest, toolVersion } from './run.js'

function exit (code: number): void {
  process.exitCode = code
  // Let stdout drain before leaving (it may be a pipe).
  process.stdout.write('', () => process.exit(code))
}

async function main (): Promise<void> {
  let parsed
  try {
    parsed = parseCliArgs(process.argv.slice(2))
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\nRun with --help for the options.\n`)
      exit(2)
      return
    }
    throw err
  }
  if (parsed.help) {
    process.stdout.write(HELP)
    exit(0)
    return
  }
  if (parsed.version) {
    process.stdout.write(`${toolVersion()}\n`)
    exit(0)
    return
  }
  const { config } = parsed
  const controller = new AbortController()
  let interruptedBy: NodeJS.Signals | undefined
  const progress = new ProgressPrinter(process.stderr, process.stderr.isTTY === true, config.quiet)
  const out = (line: string): void => {
    progress.clear()
    process.stdout.write(`${line}\n`)
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interruptedBy !== undefined) {
      process.stderr.write(`\n${signal} again: exiting now\n`)
      // The stack module's exit hook kills the launcher's process group.
      process.exit(signal === 'SIGINT' ? 130 : 143)
    }
    interruptedBy = signal
    progress.clear()
    process.stderr.write(`\n${signal}: stopping the run and tearing down (press Ctrl-C again to exit at once)\n`)
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  out(`DOCUMIND VOICE - PRODUCTION LOAD TEST (documind-loadtest ${toolVersion()})`)
  out(`Started: ${new Date().toISOString()}   Scenarios: ${config.scenarios.join(', ')}`)
  let index = 0
  const report = await runLoadTest(config, {
    log: (line) => { if (!config.quiet) out(line) },
    progress: (name, p) => progress.update(name, p),
    scenarioStart: (name, title) => { if (!config.quiet) out(`\n>> ${name}: ${title} ...`) },
    scenarioDone: (result) => {
      index++
      if (!config.quiet) out(renderScenario(result, index))
    },
    signal: controller.signal
  })
  out(renderSummary(report))
  try {
    const written = await writeReports(report, { json: config.jsonFile, html: config.htmlFile })
    for (const path of written) out(`Report written: ${path}`)
  } catch (err) {
    process.stderr.write(`error: could not write a report: ${(err as Error).message}\n`)
    if (report.exitCode === 0) report.exitCode = 1
  }
  const code = interruptedBy === 'SIGTERM' ? 143 : interruptedBy === 'SIGINT' ? 130 : report.exitCode
  exit(code)
}

main().catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  exit(1)
})
