// PM2 process file for the API (cluster mode). `npm start` uses it, and so does the Docker image
// (pm2-runtime). PM2 runs the compiled JavaScript in apps/api/dist: on Node 20 it refuses .ts scripts.
const path = require('node:path')
const os = require('node:os')

const workers = Number.parseInt(process.env.WEB_CONCURRENCY ?? '', 10)
const closeGraceMs = Number.parseInt(process.env.CLOSE_GRACE_MS ?? '', 10) || 10_000

module.exports = {
  apps: [{
    name: 'documind-api',
    script: path.join(__dirname, 'apps/api/dist/server.js'),
    cwd: __dirname,
    exec_mode: 'cluster',
    instances: workers > 0 ? workers : os.availableParallelism(),
    // A worker counts as started only once it has called process.send('ready') after listen(),
    // so a reload never takes an old worker away before its replacement accepts connections.
    wait_ready: true,
    listen_timeout: 20_000,
    // Above the close grace period, so in-flight requests finish before PM2 resorts to SIGKILL.
    kill_timeout: closeGraceMs + 5_000,
    max_memory_restart: '768M',
    exp_backoff_restart_delay: 100,
    // PM2's metrics agent wraps every request (about 9% of a /health request's CPU, npm run bench);
    // `pm2 monit` keeps CPU and memory without it.
    pmx: false,
    merge_logs: true,
    time: false
  }]
}
