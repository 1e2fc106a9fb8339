// Tooling shared by the load tester, the bench and the API's tests.
export { mapLimit } from './concurrency.js'
export { freePort } from './ports.js'
export { ADMIN_DATABASE_URL, adminQuery, createDatabase, uniqueName, type ThrowawayDatabase } from './database.js'
export { compare, evaluateThreshold, parseThreshold, type Threshold, type ThresholdOp, type ThresholdVerdict } from './thresholds.js'
export { LAUNCHER, REPO_ROOT, startApi, type ApiOptions, type RunningApi } from './stack.js'
export { makePdf, multipartFile, renderPdf, type MakePdfOptions, type Multipart, type PdfDoc, type PdfOptions } from './pdf/render.js'
export { fitPages, makeLargePdf, makeProsePdf, type LargePdfOptions, type LargePdfResult, type ProsePdf, type SizeBounds } from './pdf/large.js'
export { corpus, makeReportPdf, noisePng, type Corpus } from './pdf/report.js'
export {
  buckets, distribution, histogram, LatencyRecorder, median, percentile, ratio, round, sortNumbers,
  type Distribution, type HistogramBin
} from './stats.js'
export {
  bucketsOf, deltaOf, histogramQuantile, histogramTotals, matches, parsePrometheusText, sumBy, sumOf,
  type Bucket, type LabelFilter, type PromSample
} from './prometheus.js'
