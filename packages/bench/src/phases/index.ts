// The measurements, one file per phase, over the shared plumbing in measure.ts.
export { askPhase } from './ask.js'
export { healthPhase } from './health.js'
export { instructionsPhase } from './instructions.js'
export { ingestPhase } from './ingest.js'
export { loginPhase } from './login.js'
export { type Context, loadAverages, quiesce } from './measure.js'
export { launcherRssMb, settledWorkerMemory, workerMemory } from './memory.js'
