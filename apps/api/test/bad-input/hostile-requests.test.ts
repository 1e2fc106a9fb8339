import { createHmac } from 'node:crypto'
import Fastify, { type InjectOptions } from 'fastify'
import jwt from 'jsonwebtoken'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serverOptions, type RunnableConfig } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { buildTestApp, TEST_JWT_SECRET, testEnv, type TestApp } from '../helpers/app.js'
import { NO_RATE_LIMITS, runHostileCase, signUp, type HostileCase, type SignedUpUser as User } from '../helpers/bad-input.js'
import { multipart } from '../helpers/documents.js'
import { makePdf } from '../helpers/pdf-fixtures.js'

// Hostile and malformed JSON requests against every JSON route, auth and path parameters: each one
// gets its documented 4xx (or a 200 {success:false} soft failure) as JSON, no 5xx, and leaves every
// table exactly as it was. One `it` per case.

const JSON_CT = { 'content-type': 'application/json' }
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

let t: TestApp
let db: pg.Pool
let alice: User
let bob: User
let gone: User
let documentId: string
let usedResetToken: string

const auth = (user: User): Record<string, string> => ({ authorization: `Bearer ${user.token}` })
const asAlice = (options: InjectOptions): InjectOptions => ({ ...options, headers: { ...auth(alice), ...options.headers } })
const asBob = (options: InjectOptions): InjectOptions => ({ ...options, headers: { ...auth(bob), ...options.headers } })
const asGone = (options: InjectOptions): InjectOptions => ({ ...options, headers: { ...auth(gone), ...options.headers } })
const withToken = (token: string, url = '/auth/me'): InjectOptions => ({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })

function claims (user: User, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(Date.now() / 1000)
  return { user_id: user.id, email: user.email, iat, exp: iat + 3600, ...extra }
}

/** Flips one character in the middle of a JWT part (the last one may only carry padding bits). */
function flipMiddle (part: string): string {
  const i = Math.floor(part.length / 2)
  return part.slice(0, i) + (part[i] === 'A' ? 'B' : 'A') + part.slice(i + 1)
}

const cases: HostileCase[] = [
  // ---- Malformed JSON
  { name: 'truncated JSON object', status: 400, request: () => ({ method: 'POST', url: '/auth/login', headers: JSON_CT, payload: '{"email": "a@example.com",' }) },
  { name: 'single-quoted pseudo-JSON', status: 400, request: () => ({ method: 'POST', url: '/auth/signup', headers: JSON_CT, payload: "{'email': 'x@example.com', 'password': 'secret12'}" }) },
  { name: 'trailing comma', status: 400, request: () => asAlice({ method: 'POST', url: '/feedback', headers: JSON_CT, payload: '{"message_id": 1, "rating": 1,}' }) },
  { name: 'NaN literal', status: 400, request: () => asAlice({ method: 'POST', url: '/ask', headers: JSON_CT, payload: '{"question": NaN}' }) },
  { name: 'JSON array as body', status: 400, request: () => ({ method: 'POST', url: '/auth/login', payload: [] }) },
  { name: 'JSON string as body', status: 400, request: () => asAlice({ method: 'PUT', url: '/voice/preferences', headers: JSON_CT, payload: '"azure"' }) },
  { name: 'JSON number as body', status: 400, request: () => ({ method: 'POST', url: '/auth/signup', headers: JSON_CT, payload: '42' }) },
  { name: 'JSON null as login body', status: 400, request: () => ({ method: 'POST', url: '/auth/login', headers: JSON_CT, payload: 'null' }) },
  { name: '100 000 nested arrays', status: 400, request: () => ({ method: 'POST', url: '/auth/login', headers: JSON_CT, payload: `{"email":${'['.repeat(100_000)}${']'.repeat(100_000)}}` }) },
  { name: '10 000 nested objects in /ask', status: 400, request: () => asAlice({ method: 'POST', url: '/ask', headers: JSON_CT, payload: `{"question":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}` }) },
  { name: '__proto__ key (prototype pollution)', status: 400, request: () => ({ method: 'POST', url: '/auth/signup', headers: JSON_CT, payload: '{"email":"p@example.com","password":"secret12","__proto__":{"isAdmin":true}}' }) },
  { name: 'constructor.prototype key', status: 400, request: () => asAlice({ method: 'PUT', url: '/voice/preferences', headers: JSON_CT, payload: '{"constructor":{"prototype":{"polluted":true}},"engine_preference":"auto"}' }) },
  { name: 'JSON body over 1 MiB', status: 413, request: () => ({ method: 'POST', url: '/auth/login', headers: JSON_CT, payload: JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(1024 * 1024 + 10) }) }) },
  { name: 'empty body with a JSON content type on login', status: 400, request: () => ({ method: 'POST', url: '/auth/login', headers: JSON_CT, payload: '' }) },
  { name: 'byte-order mark before the JSON (tolerated, then wrong credentials)', status: 401, request: () => ({ method: 'POST', url: '/auth/login', headers: JSON_CT, payload: '\uFEFF{"email":"a@example.com","password":"secret12"}' }) },
  { name: 'duplicate keys: the last (wrong) password wins', status: 401, message: 'Invalid credentials', request: () => ({ method: 'POST', url: '/auth/login', headers: JSON_CT, payload: `{"email":"${alice.email}","password":"secret12","password":"wrong-password"}` }) },

  // ---- Wrong types
  { name: 'signup email is an object', status: 400, request: () => ({ method: 'POST', url: '/auth/signup', payload: { email: { $gt: '' }, password: 'secret12' } }) },
  { name: 'signup password is an array', status: 400, request: () => ({ method: 'POST', url: '/auth/signup', payload: { email: 'arr@example.com', password: ['secret12'] } }) },
  { name: 'login email is a NoSQL operator object', status: 400, request: () => ({ method: 'POST', url: '/auth/login', payload: { email: { $ne: null }, password: { $ne: null } } }) },
  // JSON bodies keep their types: a number or boolean where a string is expected is not turned into one.
  { name: 'signup email is a number (no user "12345")', status: 400, message: 'body/email must be string', request: () => ({ method: 'POST', url: '/auth/signup', payload: { email: 12345, password: 'secret12' } }) },
  { name: 'signup email is a boolean', status: 400, message: 'body/email must be string', request: () => ({ method: 'POST', url: '/auth/signup', payload: { email: true, password: 'secret12' } }) },
  { name: 'signup role is a number', status: 400, message: 'body/role must be string', request: () => ({ method: 'POST', url: '/auth/signup', payload: { email: 'role@example.com', password: 'secret12', role: 7 } }) },
  { name: 'login password is a boolean', status: 400, message: 'body/password must be string', request: () => ({ method: 'POST', url: '/auth/login', payload: { email: alice.email, password: true } }) },
  { name: 'login email is a number', status: 400, message: 'body/email must be string', request: () => ({ method: 'POST', url: '/auth/login', payload: { email: 12345, password: 'secret12' } }) },
  { name: 'change-password new password is a number', status: 400, message: 'body/new_password must be string', request: () => asAlice({ method: 'POST', url: '/auth/change-password', payload: { current_password: 'not-the-password', new_password: 12345678 } }) },
  { name: 'change-email new_email is a number', status: 400, message: 'body/new_email must be string', request: () => asAlice({ method: 'POST', url: '/auth/change-email', payload: { new_email: 12345, password: 'secret12' } }) },
  { name: 'delete-account confirmation is a boolean', status: 400, message: 'body/confirmation must be string', request: () => asAlice({ method: 'DELETE', url: '/auth/delete-account', payload: { password: 'secret12', confirmation: true } }) },
  { name: 'forgot-password email is a number', status: 400, message: 'body/email must be string', request: () => ({ method: 'POST', url: '/auth/forgot-password', payload: { email: 12345 } }) },
  { name: 'reset-password password is a number', status: 400, message: 'body/password must be string', request: () => ({ method: 'POST', url: '/auth/reset-password', payload: { token: 'x'.repeat(43), password: 12345678 } }) },
  { name: 'ask question is a number', status: 400, message: 'body/question must be string', request: () => asAlice({ method: 'POST', url: '/ask', payload: { question: 42 } }) },
  { name: 'ask language is a boolean', status: 400, message: 'body/language must be string', request: () => asAlice({ method: 'POST', url: '/ask', payload: { question: 'hi', language: false } }) },
  { name: 'speak text is a number', status: 400, message: 'body/text must be string', request: () => asAlice({ method: 'POST', url: '/speak', payload: { text: 12345 } }) },
  { name: 'metadata category is a number', status: 400, message: 'body/category must be string', request: () => asAlice({ method: 'PUT', url: `/documents/${documentId}/metadata`, payload: { category: 1 } }) },
  { name: 'metadata description is a boolean', status: 400, message: 'body/description must be string', request: () => asAlice({ method: 'PUT', url: `/documents/${documentId}/metadata`, payload: { description: true } }) },
  { name: 'change-email new_email is an array', status: 400, request: () => asAlice({ method: 'POST', url: '/auth/change-email', payload: { new_email: ['x@example.com'], password: 'secret12' } }) },
  { name: 'delete-account confirmation in lower case', status: 400, message: 'Please type DELETE to confirm', request: () => asAlice({ method: 'DELETE', url: '/auth/delete-account', payload: { password: 'secret12', confirmation: 'delete' } }) },
  { name: 'delete-account password is an object', status: 400, request: () => asAlice({ method: 'DELETE', url: '/auth/delete-account', payload: { password: { toString: 'secret12' }, confirmation: 'DELETE' } }) },
  { name: 'delete-account with the wrong password', status: 401, message: 'Password is incorrect', request: () => asAlice({ method: 'DELETE', url: '/auth/delete-account', payload: { password: 'wrong-password', confirmation: 'DELETE' } }) },
  { name: 'forgot-password email is an array', status: 400, request: () => ({ method: 'POST', url: '/auth/forgot-password', payload: { email: ['a@example.com', 'b@example.com'] } }) },
  { name: 'reset-password token is an object', status: 400, request: () => ({ method: 'POST', url: '/auth/reset-password', payload: { token: { length: 43 }, password: 'secret12' } }) },
  { name: 'ask question is an object', status: 400, request: () => asAlice({ method: 'POST', url: '/ask', payload: { question: { text: 'hi' } } }) },
  { name: 'ask document_name is an array', status: 400, request: () => asAlice({ method: 'POST', url: '/ask', payload: { question: 'hi', document_name: ['a', 'b'] } }) },
  { name: 'ask body is an array', status: 400, request: () => asAlice({ method: 'POST', url: '/ask', payload: [{ question: 'hi' }] }) },
  { name: 'feedback rating is the string "1"', status: 400, message: 'Invalid feedback data', request: () => asAlice({ method: 'POST', url: '/feedback', payload: { message_id: 1, rating: '1' } }) },
  { name: 'feedback rating out of range', status: 400, message: 'Invalid feedback data', request: () => asAlice({ method: 'POST', url: '/feedback', payload: { message_id: 1, rating: 2 } }) },
  { name: 'feedback message_id is an object', status: 400, message: 'Invalid feedback data', request: () => asAlice({ method: 'POST', url: '/feedback', payload: { message_id: {}, rating: 1 } }) },
  { name: 'feedback message_id of 256 characters', status: 400, message: 'Invalid feedback data', request: () => asAlice({ method: 'POST', url: '/feedback', payload: { message_id: 'm'.repeat(256), rating: -1 } }) },
  { name: 'feedback query is a number', status: 400, message: 'Invalid feedback data', request: () => asAlice({ method: 'POST', url: '/feedback', payload: { message_id: 7, rating: 1, query: 42 } }) },
  { name: 'voice preferences engine is a number', status: 200, message: /^Invalid engine/, request: () => asAlice({ method: 'PUT', url: '/voice/preferences', payload: { engine_preference: 3 } }) },
  { name: 'voice preferences engine in upper case', status: 200, message: /^Invalid engine/, request: () => asAlice({ method: 'PUT', url: '/voice/preferences', payload: { engine_preference: 'AUTO' } }) },
  { name: 'voice preferences language longer than its column', status: 200, message: 'Failed to update preferences', request: () => asAlice({ method: 'PUT', url: '/voice/preferences', payload: { engine_preference: 'auto', language_preference: 'x'.repeat(11) } }) },
  { name: 'voice preferences language is an object', status: 200, message: 'Failed to update preferences', request: () => asAlice({ method: 'PUT', url: '/voice/preferences', payload: { language_preference: { code: 'en' } } }) },
  { name: 'voice preferences: azure on the free plan', status: 200, message: /premium feature/, request: () => asAlice({ method: 'PUT', url: '/voice/preferences', payload: { engine_preference: 'azure' } }) },
  { name: 'speak text is an object', status: 400, request: () => asAlice({ method: 'POST', url: '/speak', payload: { text: { a: 1 } } }) },
  { name: 'speak text is only whitespace', status: 200, message: 'No text provided', request: () => asAlice({ method: 'POST', url: '/speak', payload: { text: ' \t\n\u00a0 ' } }) },
  { name: 'metadata for a non-UUID id', status: 400, request: () => asAlice({ method: 'PUT', url: '/documents/not-a-uuid/metadata', payload: { category: 'work' } }) },
  { name: 'metadata with 51 tags', status: 400, request: () => asAlice({ method: 'PUT', url: `/documents/${documentId}/metadata`, payload: { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) } }) },
  { name: 'metadata with an empty category', status: 400, request: () => asAlice({ method: 'PUT', url: `/documents/${documentId}/metadata`, payload: { category: '' } }) },
  { name: 'metadata with an unknown category', status: 400, message: 'Invalid category', request: () => asAlice({ method: 'PUT', url: `/documents/${documentId}/metadata`, payload: { category: "work'; DROP TABLE documents; --" } }) },
  { name: 'metadata description over 5000 characters', status: 400, request: () => asAlice({ method: 'PUT', url: `/documents/${documentId}/metadata`, payload: { description: 'd'.repeat(5001) } }) },
  { name: 'metadata with no updates', status: 400, message: 'No updates provided', request: () => asAlice({ method: 'PUT', url: `/documents/${documentId}/metadata`, payload: {} }) },
  { name: "metadata of another user's document", status: 404, message: 'Document not found', request: () => asBob({ method: 'PUT', url: `/documents/${documentId}/metadata`, payload: { description: 'mine now' } }) },
  { name: 'search q over 200 characters', status: 400, request: () => asAlice({ method: 'GET', url: `/documents/search?q=${'q'.repeat(201)}` }) },
  { name: 'search q given twice (array)', status: 400, request: () => asAlice({ method: 'GET', url: '/documents/search?q=a&q=b' }) },
  { name: 'search tags over 1000 characters', status: 400, request: () => asAlice({ method: 'GET', url: `/documents/search?tags=${'t,'.repeat(501)}` }) },

  // ---- Unicode edge cases
  { name: 'login email with a lone surrogate', status: 401, message: 'Invalid credentials', request: () => ({ method: 'POST', url: '/auth/login', headers: JSON_CT, payload: '{"email":"\\ud800alice@example.com","password":"secret12"}' }) },
  { name: 'login email with a NUL byte', status: 400, request: () => ({ method: 'POST', url: '/auth/login', payload: { email: `${alice.email}\u0000`, password: 'secret12' } }) },
  { name: 'signup email with a NUL byte', status: 400, request: () => ({ method: 'POST', url: '/auth/signup', payload: { email: 'nul\u0000@example.com', password: 'secret12' } }) },
  { name: 'signup email of 10 000 combining marks', status: 400, request: () => ({ method: 'POST', url: '/auth/signup', payload: { email: `z${'\u0301'.repeat(10_000)}@example.com`, password: 'secret12' } }) },
  { name: 'signup role longer than its column', status: 400, request: () => ({ method: 'POST', url: '/auth/signup', payload: { email: 'role@example.com', password: 'secret12', role: 'r'.repeat(51) } }) },
  { name: 'signup password of 10 000 combining marks', status: 400, message: 'Password must be at most 72 bytes', request: () => ({ method: 'POST', url: '/auth/signup', payload: { email: 'marks@example.com', password: `a${'\u0301'.repeat(10_000)}` } }) },
  { name: 'signup with an emoji email and a 3-emoji password', status: 400, message: 'Password must be at least 6 characters', request: () => ({ method: 'POST', url: '/auth/signup', payload: { email: '🦄@example.com', password: '🔑🔑🔑' } }) },
  { name: 'login with a right-to-left override in the email', status: 401, message: 'Invalid credentials', request: () => ({ method: 'POST', url: '/auth/login', payload: { email: `\u202e${alice.email}`, password: 'secret12' } }) },
  { name: 'change-email to an address with a NUL byte', status: 400, request: () => asAlice({ method: 'POST', url: '/auth/change-email', payload: { new_email: 'new\u0000@example.com', password: 'secret12' } }) },
  { name: 'change-email to an address longer than its column', status: 400, request: () => asAlice({ method: 'POST', url: '/auth/change-email', payload: { new_email: `${'a'.repeat(400)}@example.com`, password: 'secret12' } }) },
  { name: 'feedback query with a NUL byte', status: 400, request: () => asAlice({ method: 'POST', url: '/feedback', payload: { message_id: 1, rating: 1, query: 'what\u0000is this' } }) },
  { name: 'metadata description with a NUL byte', status: 400, request: () => asAlice({ method: 'PUT', url: `/documents/${documentId}/metadata`, payload: { description: 'nul\u0000here' } }) },
  { name: 'search with a NUL byte', status: 400, request: () => asAlice({ method: 'GET', url: '/documents/search?q=a%00b' }) },
  { name: 'forgot-password email with a NUL byte', status: 400, request: () => ({ method: 'POST', url: '/auth/forgot-password', payload: { email: 'x\u0000@example.com' } }) },
  { name: 'voice preferences language with a NUL byte', status: 200, message: 'Failed to update preferences', request: () => asAlice({ method: 'PUT', url: '/voice/preferences', payload: { language_preference: 'e\u0000n' } }) },
  { name: 'delete a document named with RTL and emoji', status: 200, message: 'Document not found', request: () => asAlice({ method: 'DELETE', url: `/documents/${encodeURIComponent('\u202ereport🦄')}` }) },
  { name: 'ask with 10 000 combining marks (over the question bound)', status: 400, message: /^Question is too long: at most 2000 characters/, request: () => asBob({ method: 'POST', url: '/ask', payload: { question: `e${'\u0301'.repeat(10_000)}` } }) },
  { name: 'ask with 1 999 combining marks (no documents)', status: 200, message: /^Please upload at least one PDF/, request: () => asBob({ method: 'POST', url: '/ask', payload: { question: `e${'\u0301'.repeat(1999)}` } }) },

  // ---- SQL-like strings
  { name: "login email ' OR '1'='1", status: 401, message: 'Invalid credentials', request: () => ({ method: 'POST', url: '/auth/login', payload: { email: "' OR '1'='1' --", password: 'anything' } }) },
  { name: "login password ' OR 1=1 --", status: 401, message: 'Invalid credentials', request: () => ({ method: 'POST', url: '/auth/login', payload: { email: alice.email, password: "' OR 1=1 --" } }) },
  { name: 'delete a document named "x\'; DROP TABLE users; --"', status: 200, message: 'Document not found', request: () => asAlice({ method: 'DELETE', url: `/documents/${encodeURIComponent("x'; DROP TABLE users; --")}` }) },
  { name: 'ask with a SQL-injection document_name (no documents)', status: 200, message: /^Please upload at least one PDF/, request: () => asBob({ method: 'POST', url: '/ask', payload: { question: 'anything?', document_name: "x' OR '1'='1" } }) },
  { name: 'reset-password with a SQL-injection token', status: 400, message: 'Invalid or expired reset token', request: () => ({ method: 'POST', url: '/auth/reset-password', payload: { token: "' OR 1=1; UPDATE users SET password_hash = 'x' --", password: 'secret12' } }) },
  { name: 'change-email to an email that is SQL', status: 401, message: 'Password is incorrect', request: () => asAlice({ method: 'POST', url: '/auth/change-email', payload: { new_email: "x@example.com'); DELETE FROM users; --", password: 'wrong-password' } }) },

  // ---- Path traversal
  { name: 'audio ..%2F..%2Fetc%2Fpasswd', status: 404, message: 'Audio file not found', request: () => ({ method: 'GET', url: '/audio/..%2F..%2Fetc%2Fpasswd' }) },
  { name: 'audio %2e%2e%2f%2e%2e%2fetc%2fpasswd', status: 404, message: 'Audio file not found', request: () => ({ method: 'GET', url: '/audio/%2e%2e%2f%2e%2e%2fetc%2fpasswd' }) },
  { name: 'audio double-encoded ..%252F', status: 404, message: 'Audio file not found', request: () => ({ method: 'GET', url: '/audio/..%252F..%252Fetc%252Fpasswd' }) },
  { name: 'audio raw ../../etc/passwd', status: 404, request: () => ({ method: 'GET', url: '/audio/../../etc/passwd' }) },
  { name: 'audio ....// variant', status: 404, message: 'Audio file not found', request: () => ({ method: 'GET', url: '/audio/....%2F%2F....%2F%2Fetc%2Fpasswd' }) },
  { name: 'audio name with a NUL byte before the extension', status: 404, message: 'Audio file not found', request: () => ({ method: 'GET', url: '/audio/x.wav%00.mp3' }) },
  { name: 'audio name of 300 characters', status: 404, request: () => ({ method: 'GET', url: `/audio/${'a'.repeat(296)}.wav` }) },
  { name: 'audio name of 600 characters', status: 414, request: () => ({ method: 'GET', url: `/audio/${'a'.repeat(596)}.wav` }) },
  { name: 'audio malformed percent-encoding', status: 400, request: () => ({ method: 'GET', url: '/audio/%E0%A4%A.wav' }) },
  { name: 'HEAD audio traversal', status: 404, request: () => ({ method: 'HEAD', url: '/audio/..%2F..%2Fdata%2Fsecret.wav' }) },
  { name: 'audio with a garbage Range header', status: 404, message: 'Audio file not found', request: () => ({ method: 'GET', url: '/audio/missing.wav', headers: { range: 'bytes=--1,999999999999999999999-' } }) },
  { name: 'delete document ..%2F..%2Fetc%2Fpasswd', status: 200, message: 'Document not found', request: () => asAlice({ method: 'DELETE', url: '/documents/..%2F..%2Fetc%2Fpasswd' }) },
  { name: 'delete document double-encoded %252e%252e%252f', status: 200, message: 'Document not found', request: () => asAlice({ method: 'DELETE', url: '/documents/%252e%252e%252freport' }) },
  { name: 'delete document malformed percent-encoding', status: 400, request: () => asAlice({ method: 'DELETE', url: '/documents/%E0%A4%A' }) },
  { name: 'metadata path traversal instead of an id', status: 400, request: () => asAlice({ method: 'PUT', url: '/documents/..%2F..%2Fusers/metadata', payload: { category: 'work' } }) },

  // ---- Wrong content types
  { name: 'login as text/plain (parsed as a string, not an object)', status: 400, request: () => ({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'text/plain' }, payload: `email=${alice.email}&password=secret12` }) },
  { name: 'login as a urlencoded form', status: 415, request: () => ({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `email=${alice.email}&password=secret12` }) },
  { name: 'ask as XML', status: 415, request: () => asAlice({ method: 'POST', url: '/ask', headers: { 'content-type': 'application/xml' }, payload: '<question>hi</question>' }) },
  { name: 'signup without a content type', status: 415, request: () => ({ method: 'POST', url: '/auth/signup', headers: { 'content-type': '' }, payload: '{"email":"ct@example.com","password":"secret12"}' }) },
  { name: 'feedback as application/jsonx', status: 415, request: () => asAlice({ method: 'POST', url: '/feedback', headers: { 'content-type': 'application/jsonx' }, payload: '{"message_id":1,"rating":1}' }) },
  { name: 'upload with a JSON body', status: 200, message: 'No file uploaded', request: () => asAlice({ method: 'POST', url: '/upload', payload: { file: 'JVBERi0xLjQ=' } }) },

  // ---- Tokens: tampered, forged, replayed, of deleted users
  { name: 'no Authorization header', status: 401, message: 'No authorization header', request: () => ({ method: 'GET', url: '/documents' }) },
  { name: 'empty Authorization header', status: 401, message: 'No authorization header', request: () => ({ method: 'GET', url: '/documents', headers: { authorization: '' } }) },
  { name: 'blank Authorization header', status: 401, message: 'No authorization header', request: () => ({ method: 'GET', url: '/documents', headers: { authorization: '   ' } }) },
  { name: 'malformed JSON to /ask without a token (token checked first)', status: 401, message: 'No authorization header', request: () => ({ method: 'POST', url: '/ask', headers: JSON_CT, payload: '{"question": ' }) },
  { name: 'wrong-typed body to change-email with a forged token', status: 401, message: 'Invalid or expired token', request: () => ({ method: 'POST', url: '/auth/change-email', headers: { authorization: `Bearer ${jwt.sign(claims(alice), 'forged-secret-of-at-least-32-characters!')}` }, payload: { new_email: 12345 } }) },
  { name: 'XML body to PUT /voice/preferences without a token', status: 401, message: 'No authorization header', request: () => ({ method: 'PUT', url: '/voice/preferences', headers: { 'content-type': 'application/xml' }, payload: '<engine>azure</engine>' }) },
  { name: 'Authorization without a space', status: 401, message: 'Invalid authorization header format', request: () => ({ method: 'GET', url: '/documents', headers: { authorization: `Bearer${alice.token}` } }) },
  { name: 'Authorization with two spaces', status: 401, message: 'Invalid or expired token', request: () => ({ method: 'GET', url: '/documents', headers: { authorization: `Bearer  ${alice.token}` } }) },
  { name: 'tampered payload (user_id swapped, signature kept)', status: 401, message: 'Invalid or expired token', request: () => { const [h, , s] = alice.token.split('.'); return withToken(`${h}.${b64(claims(bob))}.${s}`) } },
  { name: 'tampered signature', status: 401, message: 'Invalid or expired token', request: () => { const [h, p, s] = alice.token.split('.'); return withToken(`${h}.${p}.${flipMiddle(s!)}`) } },
  { name: 'alg: none', status: 401, message: 'Invalid or expired token', request: () => withToken(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims(alice))}.`) },
  { name: 'signed with another secret', status: 401, message: 'Invalid or expired token', request: () => withToken(jwt.sign(claims(alice), 'another-secret-of-at-least-32-characters', { algorithm: 'HS256' })) },
  { name: 'expired token', status: 401, message: 'Invalid or expired token', request: () => withToken(jwt.sign(claims(alice, { iat: 1_000_000, exp: 1_000_100 }), TEST_JWT_SECRET, { algorithm: 'HS256' })) },
  { name: 'token whose user_id is SQL', status: 401, message: 'Invalid or expired token', request: () => withToken(jwt.sign(claims(alice, { user_id: "' OR 1=1 --" }), TEST_JWT_SECRET, { algorithm: 'HS256' })) },
  { name: 'token without an email claim', status: 401, message: 'Invalid or expired token', request: () => withToken(jwt.sign({ user_id: alice.id }, TEST_JWT_SECRET, { algorithm: 'HS256' })) },
  { name: 'RS256 header over an HMAC signature (key confusion)', status: 401, message: 'Invalid or expired token', request: () => { const head = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims(alice))}`; return withToken(`${head}.${createHmac('sha256', TEST_JWT_SECRET).update(head).digest('base64url')}`) } },
  { name: 'HS512 with the right secret (algorithm pinned)', status: 401, message: 'Invalid or expired token', request: () => withToken(jwt.sign(claims(alice), TEST_JWT_SECRET, { algorithm: 'HS512' })) },
  { name: '10 KB of garbage as the token', status: 401, message: 'Invalid or expired token', request: () => withToken('x'.repeat(10_000)) },
  { name: 'Basic credentials instead of a bearer token', status: 401, message: 'Invalid or expired token', request: () => ({ method: 'GET', url: '/auth/me', headers: { authorization: `Basic ${Buffer.from(`${alice.email}:secret12`).toString('base64')}` } }) },
  { name: 'token in the query string only', status: 401, message: 'No authorization header', request: () => ({ method: 'GET', url: `/auth/me?token=${alice.token}` }) },
  { name: 'clear-all documents with a forged token (nothing deleted)', status: 401, message: 'Invalid or expired token', request: () => ({ ...withToken(jwt.sign(claims(alice), 'forged-secret-of-at-least-32-characters!', { algorithm: 'HS256' }), '/documents/clear-all'), method: 'POST' }) },
  { name: 'clear-all documents with alg: none (nothing deleted)', status: 401, message: 'Invalid or expired token', request: () => ({ ...withToken(`${b64({ alg: 'none' })}.${b64(claims(alice))}.`, '/documents/clear-all'), method: 'POST' }) },
  { name: 'POST /clear with Basic credentials', status: 401, message: 'Invalid or expired token', request: () => ({ method: 'POST', url: '/clear', headers: { authorization: 'Basic YWxpY2U6c2VjcmV0' } }) },
  { name: 'POST /cache/clear with an expired token', status: 401, message: 'Invalid or expired token', request: () => ({ ...withToken(jwt.sign(claims(alice, { iat: 1_000_000, exp: 1_000_100 }), TEST_JWT_SECRET), '/cache/clear'), method: 'POST' }) },
  { name: 'GET /cache/stats without a token', status: 401, message: 'No authorization header', request: () => ({ method: 'GET', url: '/cache/stats' }) },
  { name: 'GET /stats with a tampered token', status: 401, message: 'Invalid or expired token', request: () => { const [h, p, s] = alice.token.split('.'); return withToken(`${h}.${p}.${flipMiddle(s!)}`, '/stats') } },
  { name: 'GET /limits with a token for another secret', status: 401, message: 'Invalid or expired token', request: () => withToken(jwt.sign(claims(bob), 'another-secret-of-at-least-32-characters'), '/limits') },
  { name: 'GET /tts/engines with alg: none', status: 401, message: 'Invalid or expired token', request: () => withToken(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims(alice))}.`, '/tts/engines') },
  { name: 'GET /documents/categories with a script in the query and no token', status: 401, message: 'No authorization header', request: () => ({ method: 'GET', url: '/documents/categories?x=%3Cscript%3Ealert(1)%3C%2Fscript%3E' }) },
  { name: 'POST /tts/languages (wrong method)', status: 404, request: () => ({ method: 'POST', url: '/tts/languages', payload: { languages: { xx: 'pwned' } } }) },
  { name: 'replayed password-reset token', status: 400, message: 'Invalid or expired reset token', request: () => ({ method: 'POST', url: '/auth/reset-password', payload: { token: usedResetToken, password: 'another-password' } }) },
  { name: 'deleted user: GET /auth/me', status: 404, message: 'User not found', request: () => asGone({ method: 'GET', url: '/auth/me' }) },
  { name: 'deleted user: change-password', status: 404, message: 'User not found', request: () => asGone({ method: 'POST', url: '/auth/change-password', payload: { current_password: 'secret12', new_password: 'secret13' } }) },
  { name: 'deleted user: change-email', status: 404, message: 'User not found', request: () => asGone({ method: 'POST', url: '/auth/change-email', payload: { new_email: 'back@example.com', password: 'secret12' } }) },
  { name: 'deleted user: delete-account again', status: 404, message: 'User not found', request: () => asGone({ method: 'DELETE', url: '/auth/delete-account', payload: { password: 'secret12', confirmation: 'DELETE' } }) },
  { name: 'deleted user: feedback', status: 404, message: 'User not found', request: () => asGone({ method: 'POST', url: '/feedback', payload: { message_id: 1, rating: 1 } }) },
  { name: 'deleted user: PUT voice preferences', status: 200, message: 'Failed to update preferences', request: () => asGone({ method: 'PUT', url: '/voice/preferences', payload: { engine_preference: 'gtts' } }) },
  { name: 'deleted user: GET voice preferences', status: 200, message: 'Failed to load voice preferences', request: () => asGone({ method: 'GET', url: '/voice/preferences' }) },
  { name: 'deleted user: GET /user/stats', status: 404, message: 'User not found', request: () => asGone({ method: 'GET', url: '/user/stats' }) },
  { name: 'deleted user: upload', status: 200, message: 'User not found', request: async () => { const body = multipart({ filename: 'ghost.pdf', data: await makePdf({ pages: ['Ghost text.'] }) }); return asGone({ method: 'POST', url: '/upload', payload: body.payload, headers: body.headers }) } },

  // ---- Methods and routes that do not exist
  { name: 'GET /auth/signup', status: 404, request: () => ({ method: 'GET', url: '/auth/signup' }) },
  { name: 'PATCH /voice/preferences', status: 404, request: () => asAlice({ method: 'PATCH', url: '/voice/preferences', payload: { engine_preference: 'auto' } }) },
  { name: 'GET /auth/login', status: 405, request: () => ({ method: 'GET', url: '/auth/login' }) },
  { name: 'POST /health', status: 404, request: () => ({ method: 'POST', url: '/health', payload: {} }) },
  { name: 'X-Forwarded-For with 5 000 entries (not a trusted proxy)', status: 401, message: 'Invalid credentials', request: () => ({ method: 'POST', url: '/auth/login', headers: { 'x-forwarded-for': Array.from({ length: 5000 }, (_, i) => `10.0.${i % 250}.${i % 200}`).join(', ') }, payload: { email: 'xff@example.com', password: 'secret12' } }) }
]

describe('hostile requests', () => {
  beforeAll(async () => {
    // No speech engine and no Groq: nothing runs in the background that could write to the tables.
    t = await buildTestApp({ label: 'bad_input', env: { ...NO_RATE_LIMITS, ESPEAK_NG_PATH: '' } })
    db = new pg.Pool({ connectionString: t.databaseUrl, max: 2 })
    alice = await signUp(t.app, 'alice@example.com')
    bob = await signUp(t.app, 'bob@example.com')
    gone = await signUp(t.app, 'gone@example.com')
    const deleted = await t.app.inject({ method: 'DELETE', url: '/auth/delete-account', headers: auth(gone), payload: { password: 'secret12', confirmation: 'DELETE' } })
    expect(deleted.statusCode).toBe(200)

    const upload = multipart({ filename: 'report.pdf', data: await makePdf({ pages: ['Quarterly report. Revenue grew in every market.'] }) })
    expect((await t.app.inject({ method: 'POST', url: '/upload', headers: { ...auth(alice), ...upload.headers }, payload: upload.payload })).json()).toMatchObject({ success: true })
    documentId = ((await t.app.inject({ url: '/documents', headers: auth(alice) })).json() as { documents: Array<{ id: string }> }).documents[0]!.id

    usedResetToken = await t.app.passwordResets.create(alice.id)
    expect((await t.app.inject({ method: 'POST', url: '/auth/reset-password', payload: { token: usedResetToken, password: 'secret12' } })).statusCode).toBe(200)
  }, 60_000)

  afterAll(async () => {
    await db?.end()
    await t?.close()
  })

  it(`has at least 60 cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(60)
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length)
  })

  for (const c of cases) {
    it(c.name, async () => {
      await runHostileCase(t.app, db, c)
    })
  }

  it('still answers /health and serves a normal request after the suite', async () => {
    expect((await t.app.inject({ url: '/health' })).statusCode).toBe(200)
    expect((await t.app.inject({ url: '/health/ready' })).statusCode).toBe(200)
    const login = await t.app.inject({ method: 'POST', url: '/auth/login', payload: { email: alice.email, password: 'secret12' } })
    expect(login.statusCode).toBe(200)
  })
})

describe('the server validator', () => {
  it('coerces query strings and path parameters, never JSON bodies', async () => {
    // The server options alone: no database is opened.
    const config = loadConfig(testEnv('postgres://127.0.0.1/unused', 'validator:', false)) as RunnableConfig
    const app = Fastify(serverOptions(config))
    const Numbers = { type: 'object', properties: { n: { type: 'integer' }, flag: { type: 'boolean' } } }
    app.post('/probe/:n', { schema: { params: Numbers, querystring: Numbers, body: { type: 'object', properties: { s: { type: 'string' } } } } },
      async (request) => ({ params: request.params, query: request.query, body: request.body }))
    const ok = await app.inject({ method: 'POST', url: '/probe/7?n=5&flag=true', payload: { s: 'text' } })
    expect(ok.json()).toEqual({ params: { n: 7 }, query: { n: 5, flag: true }, body: { s: 'text' } })
    const refused = await app.inject({ method: 'POST', url: '/probe/7', payload: { s: 5 } })
    expect(refused.statusCode).toBe(400)
    await app.close()
  })
})
