/**
 * pdf.js' legacy build (the one pdf-parse 2.x loads) bundles core-js and, on Node 20
 * (V8 11.x), *replaces* `Array.prototype.push` and `JSON.parse` for the whole realm
 * with JavaScript polyfills that only fix spec edge cases (push onto an array with a
 * non-writable or 2^32 length; JSON.parse source-text access). The polyfilled `push` is
 * ~2x slower and pdf.js' text layout pushes a lot.
 *
 * This module must be imported BEFORE 'pdf-parse' so it captures the native functions;
 * `restoreNativeBuiltins()` puts them back after pdf.js has loaded (~10-15% faster
 * extraction, and no slowdown leaking into the rest of the realm).
 */
const nativeArrayPush = Array.prototype.push
const nativeJsonParse = JSON.parse

/** Put the captured natives back; returns the names of the restored builtins. */
export function restoreNativeBuiltins (): string[] {
  const restored: string[] = []
  if (Array.prototype.push !== nativeArrayPush) {
    // eslint-disable-next-line no-extend-native -- restoring the original, not extending
    Object.defineProperty(Array.prototype, 'push', { value: nativeArrayPush, writable: true, configurable: true, enumerable: false })
    restored.push('Array.prototype.push')
  }
  if (JSON.parse !== nativeJsonParse) {
    Object.defineProperty(JSON, 'parse', { value: nativeJsonParse, writable: true, configurable: true, enumerable: false })
    restored.push('JSON.parse')
  }
  return restored
}
