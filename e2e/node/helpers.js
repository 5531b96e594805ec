// Shared set-up for the OAuth client tests: the host application's side of
// tokend (its management API), reached with plain fetch so that nothing
// here depends on the OAuth libraries under test.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'

export const baseURL = requiredEnv('TOKEND_URL').replace(/\/+$/, '')
const managementKey = requiredEnv('TOKEND_KEY')

// Every request is bounded: a hung server must fail a test, not stall it
// until the runner's own time-out.
export const requestTimeoutMs = 10_000

// What each test's service supports. Scope names are made up; two of them
// so that narrowing a request is observable.
export const SCOPES = ['photos.read', 'photos.write']

function requiredEnv(name) {
  const v = process.env[name]
  if (!v) {
    throw new Error(`${name} is not set: run these tests through e2e/node_test.go (go test ./e2e/)`)
  }
  return v
}

// manage calls the management API as the host application and returns the
// parsed body, failing the test unless the status is the expected one.
export async function manage(method, path, body, expectStatus) {
  const res = await fetch(baseURL + path, {
    method,
    headers: {
      authorization: `Bearer ${managementKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(requestTimeoutMs),
  })
  const text = await res.text()
  if (expectStatus !== undefined) {
    assert.equal(res.status, expectStatus, `${method} ${path} answered ${res.status}: ${text}`)
  } else {
    assert.ok(res.ok, `${method} ${path} answered ${res.status}: ${text}`)
  }
  return text ? JSON.parse(text) : undefined
}

// createService makes a fresh tenant, so that tests never share state and
// can run in any order or in parallel.
// Rotation with no grace period is set explicitly: the replay tests depend
// on it, not on whatever the defaults become.
export async function createService(grantTypes = ['AUTHORIZATION_CODE', 'CLIENT_CREDENTIALS', 'REFRESH_TOKEN']) {
  const svc = await manage('POST', '/v1/services', {
    name: `e2e-${randomUUID()}`,
    scopes_supported: SCOPES,
    grant_types_supported: grantTypes,
    refresh_token_policy: { rotate: true, reuse_grace: 0 },
  }, 201)
  assert.deepEqual([...svc.grant_types_supported].sort(), [...grantTypes].sort())
  assert.equal(typeof svc.id, 'number')
  // The documented derivation: BASE_URL/oauth/{id}.
  assert.equal(svc.issuer, `${baseURL}/oauth/${svc.id}`)
  return svc
}

// createUser adds a resource owner for the password grant (RFC 6749 §4.3),
// for services that enable it.
export async function createUser(svc, username, password) {
  const u = await manage('POST', `/v1/services/${svc.id}/users`, { username, password }, 201)
  assert.equal(u.username, username)
  assert.equal(u.password, undefined, 'a password is never echoed')
  return u
}

// createKey makes a management key of one service, as an operator would
// give one to a resource server that introspects tokens.
export async function createKey(svc, permissions) {
  const k = await manage('POST', `/v1/services/${svc.id}/keys`, { name: 'e2e resource server', permissions }, 201)
  assert.equal(typeof k.key, 'string')
  return k.key
}

export const REDIRECT_URI = 'https://app.example/callback'

// createClient registers an OAuth client. A confidential client comes back
// with its secret (tks_…); a public one has none.
export async function createClient(svc, { type = 'CONFIDENTIAL', grantTypes, scopes = SCOPES } = {}) {
  grantTypes ??= type === 'PUBLIC'
    ? ['AUTHORIZATION_CODE', 'REFRESH_TOKEN']
    : ['AUTHORIZATION_CODE', 'CLIENT_CREDENTIALS', 'REFRESH_TOKEN']
  const cl = await manage('POST', `/v1/services/${svc.id}/clients`, {
    name: `e2e ${type.toLowerCase()} client`,
    type,
    grant_types: grantTypes,
    scopes,
    redirect_uris: [REDIRECT_URI],
  }, 201)
  assert.equal(typeof cl.client_id, 'string')
  if (type === 'CONFIDENTIAL') {
    assert.match(cl.client_secret, /^tks_/)
  } else {
    assert.ok(!cl.client_secret, 'a public client has no secret')
  }
  return cl
}

// mintCode plays the host application after it has authenticated the user:
// tokend has no authorization endpoint, the host asks for the code.
export async function mintCode(svc, cl, { subject = 'alice', scopes = ['photos.read'], codeChallenge, redirectURI = REDIRECT_URI } = {}) {
  const body = {
    client: cl.client_id,
    subject,
    scopes,
    redirect_uri: redirectURI,
  }
  if (codeChallenge !== undefined) {
    body.code_challenge = codeChallenge
    body.code_challenge_method = 'S256'
  }
  const out = await manage('POST', `/v1/services/${svc.id}/authorization-codes`, body, 201)
  assert.equal(typeof out.code, 'string')
  assert.ok(out.code.length >= 20, `code ${out.code} is too short to be unguessable`)
  assert.ok(Date.parse(out.expires_at) > Date.now(), `code expires_at ${out.expires_at} is not in the future`)
  return out.code
}

// callbackURL is the URL the user agent would land on at the client after
// the host application redirected it: the code, and iss when the server
// says it sends one (RFC 9207).
export function callbackURL(as, code, redirectURI = REDIRECT_URI) {
  const u = new URL(redirectURI)
  u.searchParams.set('code', code)
  if (as.authorization_response_iss_parameter_supported) {
    u.searchParams.set('iss', as.issuer)
  }
  return u
}

// rawJSON reads a response body without consuming it, to check what the
// server sent before a library normalises it (e.g. token_type's case).
export async function rawJSON(response) {
  return response.clone().json()
}

// assertTokenResponse checks the fields every token response from tokend
// carries (RFC 6749 §5.1) with tokend's value formats.
export function assertTokenResponse(tokens, { scope, refresh, ttl = 3600 }) {
  assert.match(tokens.access_token, /^tka_[A-Za-z0-9_-]+$/)
  assert.equal(tokens.token_type.toLowerCase(), 'bearer')
  assert.equal(typeof tokens.expires_in, 'number')
  assert.ok(tokens.expires_in > 0 && tokens.expires_in <= ttl, `expires_in ${tokens.expires_in} not in (0, ${ttl}]`)
  assertScope(tokens.scope, scope)
  if (refresh) {
    assert.match(tokens.refresh_token, /^tkr_[A-Za-z0-9_-]+$/)
    assert.notEqual(tokens.refresh_token, tokens.access_token)
  } else {
    assert.equal(tokens.refresh_token, undefined, 'no refresh token expected')
  }
}

// assertScope compares space-delimited scope strings as sets: RFC 6749 §3.3
// gives the order no meaning.
export function assertScope(got, want) {
  assert.equal(typeof got, 'string', `scope ${got} is not a string`)
  assert.deepEqual(got.split(' ').sort(), want.split(' ').sort(), `scope "${got}", want "${want}"`)
}

// nowSeconds is the current time as a JWT-style NumericDate.
export function nowSeconds() {
  return Math.floor(Date.now() / 1000)
}
