// Fails when production dependencies carry a high or critical advisory. When the registry's advisory
// service cannot be reached (some mirrors refuse its POST), says so plainly instead of passing silently.
import { execFileSync } from 'node:child_process'

let output
try {
  output = execFileSync('npm', ['audit', '--omit=dev', '--json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  })
} catch (error) {
  output = error.stdout ?? ''
}
let report
try {
  report = JSON.parse(output)
} catch {
  report = {}
}
const counts = report.metadata?.vulnerabilities
if (counts === undefined) {
  const reason = report.message ?? 'no report'
  console.log(`npm audit: NOT CHECKED, the advisory service did not answer (${reason})`)
  process.exit(0)
}
const serious = (counts.high ?? 0) + (counts.critical ?? 0)
console.log(`npm audit (production dependencies): ${JSON.stringify(counts)}`)
if (serious > 0) {
  for (const [name, finding] of Object.entries(report.vulnerabilities ?? {})) {
    if (finding.severity === 'high' || finding.severity === 'critical')
      console.log(`  ${finding.severity}: ${name}`)
  }
  process.exit(1)
}
