// tokend's OAuth endpoints driven by oauth4webapi, a strict, low-level
// client: each request and response goes through the library's own RFC
// checks, and the tests then check the values tokend put in them.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as oauth from 'oauth4webapi'
import {
  REDIRECT_URI, SCOPES, assertScope, assertTokenResponse, baseURL, callbackURL,
  createClient, createKey, createService, createUser, mintCode, nowSeconds, rawJSON, requestTimeoutMs,
} from './helpers.js'

// opts are every request's options: plain http is allowed because the
// server listens on loopback only, and each request has a deadline.
function opts(extra = {}) {
  return { [oauth.allowInsecureRequests]: true, signal: AbortSignal.timeout(requestTimeoutMs), ...extra }
}

async function discover(svc) {
  const issuer = new URL(svc.issuer)
  const res = await oauth.discoveryRequest(issuer, opts({ algorithm: 'oauth2' }))
  // RFC 8414 §3.1: the well-known segment goes between host and path.
  assert.equal(res.url, `${baseURL}/.well-known/oauth-authorization-server/oauth/${svc.id}`)
  return oauth.processDiscoveryResponse(issuer, res)
}

// setup gives a fresh service, a confidential client and the discovered
// metadata, with the client as oauth4webapi describes it.
async function setup(clientOpts) {
  const svc = await createService()
  const cl = await createClient(svc, clientOpts)
  const as = await discover(svc)
  const client = { client_id: cl.client_id }
  const auth = cl.client_secret ? oauth.ClientSecretBasic(cl.client_secret) : oauth.None()
  return { svc, cl, as, client, auth }
}

// codeFlow runs authorization code + PKCE end to end and returns the token
// response: the host application mints the code for the challenge, the
// client validates the callback and redeems the code with its verifier.
async function codeFlow({ svc, cl, as, client, auth }, scopes = ['photos.read']) {
  const verifier = oauth.generateRandomCodeVerifier()
  const challenge = await oauth.calculatePKCECodeChallenge(verifier)
  const code = await mintCode(svc, cl, { codeChallenge: challenge, scopes })
  const params = oauth.validateAuthResponse(as, client, callbackURL(as, code), oauth.expectNoState)
  const res = await oauth.authorizationCodeGrantRequest(as, client, auth, params, REDIRECT_URI, verifier, opts())
  const raw = await rawJSON(res)
  assert.equal(raw.token_type, 'Bearer', 'RFC 6750 token type as tokend documents it')
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, res)
  assertTokenResponse(tokens, { scope: scopes.join(' '), refresh: true })
  return tokens
}

async function introspect({ as, client, auth }, token, extra) {
  const res = await oauth.introspectionRequest(as, client, auth, token, opts(extra))
  if (res.status !== 200) assert.fail(`introspection answered ${res.status}: ${await res.text()}`)
  return oauth.processIntrospectionResponse(as, client, res)
}

// assertRejected checks an OAuth error response (RFC 6749 §5.2) as the
// library surfaces it.
async function assertRejected(promise, error, status = 400) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof oauth.ResponseBodyError, `want ResponseBodyError, got ${err?.constructor?.name}: ${err?.message}`)
    assert.equal(err.error, error, `error ${err.error} (${err.error_description}), want ${error}`)
    assert.equal(err.status, status)
    return true
  })
}

test('discovery: RFC 8414 metadata at the path-inserted well-known URL', async () => {
  const svc = await createService()
  const as = await discover(svc)
  const iss = `${baseURL}/oauth/${svc.id}`
  assert.equal(as.issuer, iss)
  assert.equal(as.token_endpoint, `${iss}/token`)
  assert.equal(as.introspection_endpoint, `${iss}/introspect`)
  assert.equal(as.revocation_endpoint, `${iss}/revoke`)
  assert.deepEqual(as.code_challenge_methods_supported, ['S256'])
  assert.deepEqual([...as.token_endpoint_auth_methods_supported].sort(),
    ['client_secret_basic', 'client_secret_post', 'none'])
  assert.deepEqual([...as.revocation_endpoint_auth_methods_supported].sort(),
    ['client_secret_basic', 'client_secret_post', 'none'])
  // A public client proves nothing by naming itself: introspection wants a secret.
  assert.deepEqual([...as.introspection_endpoint_auth_methods_supported].sort(),
    ['client_secret_basic', 'client_secret_post'])
  assert.deepEqual([...as.grant_types_supported].sort(),
    ['authorization_code', 'client_credentials', 'refresh_token'])
  assert.deepEqual([...as.scopes_supported].sort(), [...SCOPES].sort())

  // The grant list follows the service's configuration.
  const ccOnly = await createService(['CLIENT_CREDENTIALS'])
  const as2 = await discover(ccOnly)
  assert.deepEqual(as2.grant_types_supported, ['client_credentials'])

  // An unknown service has no metadata.
  const missing = new URL(`${baseURL}/oauth/987654321`)
  const res = await oauth.discoveryRequest(missing, opts({ algorithm: 'oauth2' }))
  assert.equal(res.status, 404)
  await assert.rejects(oauth.processDiscoveryResponse(missing, res), oauth.OperationProcessingError)
})

test('client_credentials: basic and post authentication, default and narrowed scope', async () => {
  const s = await setup()
  const res = await oauth.clientCredentialsGrantRequest(s.as, s.client, s.auth, { scope: 'photos.read' }, opts())
  const raw = await rawJSON(res)
  assert.equal(raw.token_type, 'Bearer')
  assert.equal(res.headers.get('cache-control'), 'no-store', 'RFC 6749 §5.1')
  const tokens = await oauth.processClientCredentialsResponse(s.as, s.client, res)
  assertTokenResponse(tokens, { scope: 'photos.read', refresh: false })

  // client_secret_post, no scope: the client's registered scopes.
  const post = oauth.ClientSecretPost(s.cl.client_secret)
  const res2 = await oauth.clientCredentialsGrantRequest(s.as, s.client, post, {}, opts())
  const tokens2 = await oauth.processClientCredentialsResponse(s.as, s.client, res2)
  assertTokenResponse(tokens2, { scope: SCOPES.join(' '), refresh: false })
  assert.notEqual(tokens2.access_token, tokens.access_token)

  // A scope the service does not know.
  const res3 = await oauth.clientCredentialsGrantRequest(s.as, s.client, s.auth, { scope: 'admin' }, opts())
  await assertRejected(oauth.processClientCredentialsResponse(s.as, s.client, res3), 'invalid_scope')
})

test('client_credentials: a wrong secret is invalid_client', async () => {
  const s = await setup()
  const wrong = 'tks_' + 'A'.repeat(s.cl.client_secret.length - 4)

  // Basic: RFC 6749 §5.2 wants 401 with a WWW-Authenticate challenge.
  const res = await oauth.clientCredentialsGrantRequest(s.as, s.client, oauth.ClientSecretBasic(wrong), {}, opts())
  assert.equal(res.status, 401)
  assert.match(res.headers.get('www-authenticate') ?? '', /^Basic\b/i)
  assert.equal((await rawJSON(res)).error, 'invalid_client')
  await assert.rejects(oauth.processClientCredentialsResponse(s.as, s.client, res),
    (err) => err instanceof oauth.WWWAuthenticateChallengeError || err instanceof oauth.ResponseBodyError)

  // Post: 400 or 401 are both allowed by §5.2; the code is what counts.
  const res2 = await oauth.clientCredentialsGrantRequest(s.as, s.client, oauth.ClientSecretPost(wrong), {}, opts())
  assert.ok(res2.status === 400 || res2.status === 401, `status ${res2.status}`)
  assert.equal((await rawJSON(res2)).error, 'invalid_client')
})

test('authorization code + PKCE: confidential client, code used once', async () => {
  const s = await setup()
  const tokens = await codeFlow(s, ['photos.read', 'photos.write'])

  const info = await introspect(s, tokens.access_token)
  assert.equal(info.active, true)
  assert.equal(info.sub, 'alice')
  assert.equal(info.client_id, s.cl.client_id)
  assertScope(info.scope, 'photos.read photos.write')
})

test('authorization code + PKCE: a second redemption is invalid_grant and revokes the first tokens', async () => {
  const s = await setup()
  const verifier = oauth.generateRandomCodeVerifier()
  const code = await mintCode(s.svc, s.cl, { codeChallenge: await oauth.calculatePKCECodeChallenge(verifier) })
  const params = oauth.validateAuthResponse(s.as, s.client, callbackURL(s.as, code), oauth.expectNoState)
  const first = await oauth.processAuthorizationCodeResponse(s.as, s.client,
    await oauth.authorizationCodeGrantRequest(s.as, s.client, s.auth, params, REDIRECT_URI, verifier, opts()))
  assertTokenResponse(first, { scope: 'photos.read', refresh: true })

  const again = await oauth.authorizationCodeGrantRequest(s.as, s.client, s.auth, params, REDIRECT_URI, verifier, opts())
  await assertRejected(oauth.processAuthorizationCodeResponse(s.as, s.client, again), 'invalid_grant')
  // RFC 6749 §4.1.2: tokens already issued on the code SHOULD be revoked.
  assert.deepEqual(await introspect(s, first.access_token), { active: false })
})

test('authorization code + PKCE: public client with method none; wrong verifier and redirect_uri refused', async () => {
  const s = await setup({ type: 'PUBLIC' })

  // A verifier that does not match the challenge: RFC 7636 §4.6.
  const verifier = oauth.generateRandomCodeVerifier()
  let code = await mintCode(s.svc, s.cl, { codeChallenge: await oauth.calculatePKCECodeChallenge(verifier) })
  let params = oauth.validateAuthResponse(s.as, s.client, callbackURL(s.as, code), oauth.expectNoState)
  let res = await oauth.authorizationCodeGrantRequest(s.as, s.client, s.auth, params, REDIRECT_URI,
    oauth.generateRandomCodeVerifier(), opts())
  await assertRejected(oauth.processAuthorizationCodeResponse(s.as, s.client, res), 'invalid_grant')

  // A redirect_uri other than the code's: RFC 6749 §4.1.3.
  code = await mintCode(s.svc, s.cl, { codeChallenge: await oauth.calculatePKCECodeChallenge(verifier) })
  params = oauth.validateAuthResponse(s.as, s.client, callbackURL(s.as, code), oauth.expectNoState)
  res = await oauth.authorizationCodeGrantRequest(s.as, s.client, s.auth, params, 'https://app.example/other', verifier, opts())
  await assertRejected(oauth.processAuthorizationCodeResponse(s.as, s.client, res), 'invalid_grant')

  // The whole flow, as a public client does it.
  const tokens = await codeFlow(s)

  // A public client may not introspect (RFC 7662 §2.1 wants the caller
  // authorized, and client_id alone proves nothing) …
  const denied = await oauth.introspectionRequest(s.as, s.client, s.auth, tokens.access_token, opts())
  assert.equal(denied.status, 401)
  assert.equal((await rawJSON(denied)).error, 'invalid_client')
  // … but a resource server registered as a confidential client may.
  const rs = await createClient(s.svc, { grantTypes: ['CLIENT_CREDENTIALS'] })
  const info = await introspect({ ...s, client: { client_id: rs.client_id }, auth: oauth.ClientSecretBasic(rs.client_secret) }, tokens.access_token)
  assert.equal(info.active, true)
  assert.equal(info.client_id, s.cl.client_id)
  assert.equal(info.sub, 'alice')

  // Revocation is open to public clients (RFC 7009 §2.1: method none).
  await oauth.processRevocationResponse(await oauth.revocationRequest(s.as, s.client, s.auth, tokens.refresh_token, opts()))
  assert.deepEqual(await introspect({ ...s, client: { client_id: rs.client_id }, auth: oauth.ClientSecretBasic(rs.client_secret) }, tokens.access_token), { active: false })
})

test('introspection with a management key (Bearer) holding tokens.introspect', async () => {
  const s = await setup()
  const tokens = await codeFlow(s)
  // A ClientAuth of our own: oauth4webapi lets the caller decide how a
  // request authenticates, here as a resource server with a key.
  const bearer = (key) => (_as, _client, _body, headers) => { headers.set('authorization', `Bearer ${key}`) }
  const key = await createKey(s.svc, ['tokens.introspect'])
  const info = await introspect({ ...s, auth: bearer(key) }, tokens.access_token)
  assert.equal(info.active, true)
  assert.equal(info.sub, 'alice')
  assert.equal(info.client_id, s.cl.client_id)

  // A key without the permission: RFC 7662 §2.3 answers 401, with
  // RFC 6750's insufficient_scope saying why.
  const weak = await createKey(s.svc, ['tokens.read'])
  const res = await oauth.introspectionRequest(s.as, s.client, bearer(weak), tokens.access_token, opts())
  assert.equal(res.status, 401)
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b.*error="insufficient_scope"/)
  await assert.rejects(oauth.processIntrospectionResponse(s.as, s.client, res))
})

test('refresh_token: rotation, narrowing, and replay of a rotated token revokes the grant', async () => {
  const s = await setup()
  const t1 = await codeFlow(s, ['photos.read', 'photos.write'])

  const res = await oauth.refreshTokenGrantRequest(s.as, s.client, s.auth, t1.refresh_token, opts())
  assert.equal((await rawJSON(res)).token_type, 'Bearer')
  const t2 = await oauth.processRefreshTokenResponse(s.as, s.client, res)
  assertTokenResponse(t2, { scope: 'photos.read photos.write', refresh: true })
  assert.notEqual(t2.refresh_token, t1.refresh_token, 'rotation gives a new refresh token')
  assert.notEqual(t2.access_token, t1.access_token)

  // RFC 6749 §6: a narrower scope is allowed, a wider one is not.
  const t3 = await oauth.processRefreshTokenResponse(s.as, s.client,
    await oauth.refreshTokenGrantRequest(s.as, s.client, s.auth, t2.refresh_token, opts({ additionalParameters: { scope: 'photos.read' } })))
  assertTokenResponse(t3, { scope: 'photos.read', refresh: true })
  assert.equal((await introspect(s, t3.access_token)).active, true)

  // Replay of the first, already rotated refresh token (RFC 9700 §4.14.2).
  const replay = await oauth.refreshTokenGrantRequest(s.as, s.client, s.auth, t1.refresh_token, opts())
  await assertRejected(oauth.processRefreshTokenResponse(s.as, s.client, replay), 'invalid_grant')

  // The whole grant is gone: the newest tokens too.
  assert.deepEqual(await introspect(s, t3.access_token), { active: false })
  const latest = await oauth.refreshTokenGrantRequest(s.as, s.client, s.auth, t3.refresh_token, opts())
  await assertRejected(oauth.processRefreshTokenResponse(s.as, s.client, latest), 'invalid_grant')
})

test('refresh_token: only the client it was issued to can use it', async () => {
  const s = await setup()
  const tokens = await codeFlow(s)
  const other = await createClient(s.svc)
  const res = await oauth.refreshTokenGrantRequest(s.as, { client_id: other.client_id },
    oauth.ClientSecretBasic(other.client_secret), tokens.refresh_token, opts())
  await assertRejected(oauth.processRefreshTokenResponse(s.as, { client_id: other.client_id }, res), 'invalid_grant')
  // RFC 6749 §6: no scope beyond the one originally granted.
  const wider = await oauth.refreshTokenGrantRequest(s.as, s.client, s.auth, tokens.refresh_token,
    opts({ additionalParameters: { scope: 'photos.read photos.write' } }))
  await assertRejected(oauth.processRefreshTokenResponse(s.as, s.client, wider), 'invalid_scope')
  // The failed attempts did not spend the token for its owner.
  const ok = await oauth.processRefreshTokenResponse(s.as, s.client,
    await oauth.refreshTokenGrantRequest(s.as, s.client, s.auth, tokens.refresh_token, opts()))
  assertTokenResponse(ok, { scope: 'photos.read', refresh: true })
})

test('introspection: RFC 7662 fields while active, only active=false after revocation', async () => {
  const s = await setup()
  const before = nowSeconds()
  const cc = await oauth.processClientCredentialsResponse(s.as, s.client,
    await oauth.clientCredentialsGrantRequest(s.as, s.client, s.auth, { scope: 'photos.write' }, opts()))

  const info = await introspect(s, cc.access_token)
  assert.equal(info.active, true)
  assert.equal(info.client_id, s.cl.client_id)
  assertScope(info.scope, 'photos.write')
  assert.equal(info.sub, undefined, 'client_credentials tokens have no subject')
  assert.ok(info.exp > before && info.exp <= nowSeconds() + 3600 + 5, `exp ${info.exp}`)
  if (info.iat !== undefined) assert.ok(info.iat >= before - 5 && info.iat <= nowSeconds() + 5, `iat ${info.iat}`)
  if (info.iss !== undefined) assert.equal(info.iss, s.as.issuer)
  if (info.token_type !== undefined) assert.equal(info.token_type.toLowerCase(), 'bearer')

  // A refresh token, hinted as such.
  const code = await codeFlow(s)
  const rinfo = await introspect(s, code.refresh_token, { additionalParameters: { token_type_hint: 'refresh_token' } })
  assert.equal(rinfo.active, true)
  assert.equal(rinfo.sub, 'alice')
  assertScope(rinfo.scope, 'photos.read')

  // Unknown and malformed values are simply inactive.
  assert.deepEqual(await introspect(s, 'tka_' + 'x'.repeat(40)), { active: false })
  assert.deepEqual(await introspect(s, 'not a token'), { active: false })

  // Revoked: nothing but active=false (§2.2 SHOULD NOT tell more).
  await oauth.processRevocationResponse(await oauth.revocationRequest(s.as, s.client, s.auth, cc.access_token, opts()))
  assert.deepEqual(await introspect(s, cc.access_token), { active: false })
})

test('introspection: another service\'s token is inactive', async () => {
  const a = await setup()
  const b = await setup()
  const tokens = await oauth.processClientCredentialsResponse(a.as, a.client,
    await oauth.clientCredentialsGrantRequest(a.as, a.client, a.auth, {}, opts()))
  assert.equal((await introspect(a, tokens.access_token)).active, true)
  assert.deepEqual(await introspect(b, tokens.access_token), { active: false })
})

test('revocation: RFC 7009 for access and refresh tokens', async () => {
  const s = await setup()

  // Revoking the refresh token ends the access token of the same grant too.
  const t1 = await codeFlow(s)
  const res = await oauth.revocationRequest(s.as, s.client, s.auth, t1.refresh_token,
    opts({ additionalParameters: { token_type_hint: 'refresh_token' } }))
  assert.equal(res.status, 200)
  assert.equal(await oauth.processRevocationResponse(res), undefined)
  assert.deepEqual(await introspect(s, t1.refresh_token), { active: false })
  assert.deepEqual(await introspect(s, t1.access_token), { active: false })
  const refresh = await oauth.refreshTokenGrantRequest(s.as, s.client, s.auth, t1.refresh_token, opts())
  await assertRejected(oauth.processRefreshTokenResponse(s.as, s.client, refresh), 'invalid_grant')

  // Revoking an access token; then again, and an unknown token: both 200
  // (§2.2: invalid tokens do not cause an error response).
  const t2 = await codeFlow(s)
  await oauth.processRevocationResponse(await oauth.revocationRequest(s.as, s.client, s.auth, t2.access_token, opts()))
  assert.deepEqual(await introspect(s, t2.access_token), { active: false })
  await oauth.processRevocationResponse(await oauth.revocationRequest(s.as, s.client, s.auth, t2.access_token, opts()))
  await oauth.processRevocationResponse(await oauth.revocationRequest(s.as, s.client, s.auth, 'tka_' + 'y'.repeat(40), opts()))

  // Another client of the same service cannot revoke this client's token
  // (§2.1: the server verifies the token was issued to the requester).
  const t3 = await codeFlow(s)
  const other = await createClient(s.svc)
  const otherClient = { client_id: other.client_id }
  const denied = await oauth.revocationRequest(s.as, otherClient, oauth.ClientSecretBasic(other.client_secret), t3.access_token, opts())
  await assert.rejects(oauth.processRevocationResponse(denied), oauth.ResponseBodyError)
  assert.equal((await introspect(s, t3.access_token)).active, true)
})

test('password grant: for a service that enables it', async () => {
  const svc = await createService(['PASSWORD', 'REFRESH_TOKEN'])
  const cl = await createClient(svc, { grantTypes: ['PASSWORD', 'REFRESH_TOKEN'] })
  await createUser(svc, 'bob', 'correct horse battery staple')
  const as = await discover(svc)
  assert.deepEqual([...as.grant_types_supported].sort(), ['password', 'refresh_token'])
  const s = { svc, cl, as, client: { client_id: cl.client_id }, auth: oauth.ClientSecretBasic(cl.client_secret) }

  const res = await oauth.genericTokenEndpointRequest(as, s.client, s.auth, 'password',
    { username: 'bob', password: 'correct horse battery staple', scope: 'photos.read' }, opts())
  const tokens = await oauth.processGenericTokenEndpointResponse(as, s.client, res)
  assertTokenResponse(tokens, { scope: 'photos.read', refresh: true })
  const info = await introspect(s, tokens.access_token)
  assert.equal(info.active, true)
  assert.equal(info.sub, 'bob')

  // RFC 6749 §5.2: wrong resource owner credentials are invalid_grant.
  const bad = await oauth.genericTokenEndpointRequest(as, s.client, s.auth, 'password',
    { username: 'bob', password: 'wrong horse battery staple' }, opts())
  await assertRejected(oauth.processGenericTokenEndpointResponse(as, s.client, bad), 'invalid_grant')

  // A grant the service does not offer.
  const cc = await oauth.clientCredentialsGrantRequest(as, s.client, s.auth, {}, opts())
  await assertRejected(oauth.processClientCredentialsResponse(as, s.client, cc), 'unsupported_grant_type')
})
