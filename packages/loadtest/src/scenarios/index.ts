// The seven scenarios, in their canonical order of execution.
import type { ScenarioName } from '../model.js'
import type { ScenarioDefinition } from './context.js'
import { health } from './health.js'
import { logins } from './logins.js'
import { query } from './query.js'
import { signups } from './signups.js'
import { stress } from './stress.js'
import { sustained } from './sustained.js'
import { upload } from './upload.js'

export type { ScenarioContext, ScenarioDefinition } from './context.js'
export { expectStatus, expectSuccess, expectToken, healthOp, orLimited } from './ops.js'

export const SCENARIOS: Record<ScenarioName, ScenarioDefinition> = { health, signups, logins, stress, query, upload, sustained }
