// The launcher needs the same probe for its embedded PostgreSQL and cannot depend on this dev
// package, so the one implementation lives in the API.
export { freePort } from '@documind/api/dist/lib/free-port.js'
