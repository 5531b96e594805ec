// tokend's Authlete-compatible API driven by Authlete's own TypeScript SDK,
// unchanged but for serverURL and the bearer (a tokend service key standing
// in for Authlete's service access token). The set-up goes through tokend's
// native API (helpers.js), as an operator would; everything under test goes
// through the SDK.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { Authlete } from '@authlete/typescript-sdk'
import { AuthleteError, ResultError } from '@authlete/typescript-sdk/models/errors'
import { baseURL, createClient, createKey, createService, requestTimeoutMs } from './helpers.js'

// hashOf is how Authlete and tokend show a token: unpadded base64url SHA-256.
function hashOf(value) {
  return createHash('sha256').update(value).digest('base64url')
}

// setup makes a service with a confidential client and an SDK client whose
// bearer is a key of that service.
async function setup() {
  const svc = await createService()
  const cl = await createClient(svc)
  const key = await createKey(svc, ['tokens.read', 'tokens.write', 'tokens.introspect'])
  const authlete = new Authlete({ serverURL: baseURL, bearer: key, timeoutMs: requestTimeoutMs })
  return { svc, cl, authlete, serviceId: String(svc.id) }
}

// create mints a token through the SDK and checks what it answers.
async function create({ authlete, serviceId, cl }, req) {
  const res = await authlete.token.management.create({
    serviceId,
    tokenCreateRequest: { grantType: 'AUTHORIZATION_CODE', clientId: cl.id, subject: 'john', scopes: ['photos.read'], ...req },
  })
  assert.equal(res.action, 'OK')
  assert.match(res.resultCode, /^A102101$/)
  assert.ok(res.resultMessage.startsWith('[A102101] '))
  return res
}

test('token.management.create: the answer describes the stored token', async () => {
  const env = await setup()
  const before = Date.now()
  const res = await create(env, {
    scopes: ['photos.read', 'photos.write'], accessTokenDuration: 600,
    properties: [{ key: 'plan', value: 'gold' }], sessionId: 'sess-1',
  })
  assert.match(res.accessToken, /^tka_/)
  assert.match(res.refreshToken, /^tkr_/)
  assert.equal(res.clientId, env.cl.id)
  assert.equal(res.subject, 'john')
  assert.equal(res.grantType, 'AUTHORIZATION_CODE')
  assert.equal(res.tokenType, 'Bearer')
  assert.equal(res.expiresIn, 600)
  assert.ok(res.expiresAt >= before + 600_000 && res.expiresAt <= Date.now() + 600_000, `expiresAt ${res.expiresAt} is not 600 s from now in ms`)
  assert.deepEqual(res.scopes, ['photos.read', 'photos.write'])
  assert.deepEqual(res.refreshTokenScopes, ['photos.read', 'photos.write'])
  assert.deepEqual(res.properties, [{ key: 'plan', value: 'gold' }])
  assert.equal(res.sessionId, 'sess-1')
  assert.match(res.tokenId, /^\d+$/)
})

test('token.management.create: migrated values and a duplicate refused as ResultError', async () => {
  const env = await setup()
  const accessToken = 'tC5hpjGylLiiw-vsd5_tqVHtYSUHblAGimEJ-5xqAco'
  const res = await create(env, { clientId: 0, clientIdentifier: env.cl.client_id, accessToken, refreshToken: 'jv4B_7_kpY-Rez_E7bYIxGYnZk43w18uigkaeUe6tc4' })
  assert.equal(res.accessToken, accessToken)
  await assert.rejects(create(env, { accessToken }), (err) => {
    assert.ok(err instanceof ResultError, `want ResultError, got ${err?.constructor?.name}: ${err?.message}`)
    assert.equal(err.statusCode, 400)
    assert.equal(err.resultCode, 'A102202')
    assert.match(err.resultMessage, /accessToken: a token with this value already exists/)
    return true
  })
})

test('token.management.list: Authlete fields, client summary, ranges and status', async () => {
  const env = await setup()
  const { authlete, serviceId, cl } = env
  const first = await create(env, { properties: [{ key: 'plan', value: 'gold' }] })
  const second = await create(env, { scopes: ['photos.write'] })
  await create(env, { subject: 'ann' })

  const list = await authlete.token.management.list({ serviceId, clientIdentifier: String(cl.id), subject: 'john' })
  assert.equal(list.totalCount, 2)
  assert.equal(list.start, 0)
  assert.equal(list.end, 2)
  assert.equal(list.subject, 'john')
  assert.deepEqual(list.client, {
    number: cl.id, clientId: cl.id, clientIdAlias: cl.client_id, clientIdAliasEnabled: true,
    clientName: cl.name, clientType: 'CONFIDENTIAL',
  })
  const [a, b] = list.accessTokens
  assert.equal(a.accessTokenHash, hashOf(first.accessToken), 'oldest first, by hash')
  assert.equal(a.refreshTokenHash, hashOf(first.refreshToken))
  assert.equal(b.accessTokenHash, hashOf(second.accessToken))
  assert.equal(a.accessTokenExpiresAt, first.expiresAt)
  assert.ok(a.refreshTokenExpiresAt > a.accessTokenExpiresAt)
  assert.ok(a.createdAt <= Date.now() && a.createdAt > Date.now() - 60_000, `createdAt ${a.createdAt} is not a recent time in ms`)
  assert.equal(a.lastRefreshedAt, 0)
  assert.equal(a.clientId, cl.id)
  assert.equal(a.subject, 'john')
  assert.equal(a.grantType, 'AUTHORIZATION_CODE')
  assert.deepEqual(a.scopes, ['photos.read'])
  assert.deepEqual(b.scopes, ['photos.write'])
  assert.deepEqual(a.properties, [{ key: 'plan', value: 'gold' }])

  const page = await authlete.token.management.list({ serviceId, start: 1, end: 2 })
  assert.equal(page.totalCount, 3)
  assert.equal(page.accessTokens.length, 1)
  assert.equal(page.accessTokens[0].accessTokenHash, hashOf(second.accessToken))
  assert.equal(page.client, undefined)

  const byAlias = await authlete.token.management.list({ serviceId, clientIdentifier: cl.client_id })
  assert.equal(byAlias.totalCount, 3)
  assert.equal(byAlias.client.clientId, cl.id)
})

test('token.management.update: scopes, expiry, properties, a new value; NOT_FOUND', async () => {
  const env = await setup()
  const { authlete, serviceId } = env
  const tok = await create(env, { properties: [{ key: 'a', value: '1' }] })
  const expiresAt = Date.now() + 10 * 60_000
  const res = await authlete.token.management.update({
    serviceId,
    tokenUpdateRequest: { accessToken: tok.accessToken, scopes: ['photos.read', 'photos.write'], accessTokenExpiresAt: expiresAt },
  })
  assert.equal(res.action, 'OK')
  assert.equal(res.resultCode, 'A103101')
  assert.equal(res.accessToken, tok.accessToken)
  assert.equal(res.accessTokenExpiresAt, expiresAt)
  assert.deepEqual(res.scopes, ['photos.read', 'photos.write'])
  assert.deepEqual(res.properties, [{ key: 'a', value: '1' }], 'properties not sent are kept')
  assert.equal(res.tokenId, tok.tokenId)
  assert.equal(res.tokenType, 'Bearer')

  const byHash = await authlete.token.management.update({
    serviceId,
    tokenUpdateRequest: { accessToken: '', accessTokenHash: hashOf(tok.accessToken), properties: [], accessTokenValueUpdated: true },
  })
  assert.match(byHash.accessToken, /^tka_/)
  assert.notEqual(byHash.accessToken, tok.accessToken)
  assert.equal(byHash.properties, undefined)
  const list = await authlete.token.management.list({ serviceId })
  assert.equal(list.accessTokens[0].accessTokenHash, hashOf(byHash.accessToken), 'the new value is the stored one')

  await assert.rejects(authlete.token.management.update({ serviceId, tokenUpdateRequest: { accessToken: tok.accessToken } }), (err) => {
    assert.ok(err instanceof AuthleteError, `want AuthleteError, got ${err?.constructor?.name}`)
    assert.equal(err.statusCode, 404)
    const body = JSON.parse(err.body)
    assert.equal(body.action, 'NOT_FOUND')
    assert.equal(body.resultCode, 'A103301')
    return true
  })
})

test('token.management.revoke and delete: Authlete order, counts, 204', async () => {
  const env = await setup()
  const { authlete, serviceId, cl } = env
  const a = await create(env, {})
  const b = await create(env, {})
  await create(env, { subject: 'ann' })

  const one = await authlete.token.management.revoke({ serviceId, tokenRevokeRequest: { accessTokenIdentifier: a.accessToken, subject: 'john' } })
  assert.equal(one.count, 1, 'the access token comes first; the subject is not used')
  assert.equal(one.resultCode, 'A105101')
  const again = await authlete.token.management.revoke({ serviceId, tokenRevokeRequest: { accessTokenIdentifier: hashOf(a.accessToken) } })
  assert.equal(again.count, 0, 'a revoked token is gone')

  const johns = await authlete.token.management.revoke({ serviceId, tokenRevokeRequest: { clientIdentifier: cl.client_id, subject: 'john' } })
  assert.equal(johns.count, 1, "b is john's last live token")
  const list = await authlete.token.management.list({ serviceId })
  assert.equal(list.totalCount, 1, 'revoked tokens never appear in the list')
  assert.notEqual(list.accessTokens[0].accessTokenHash, hashOf(b.accessToken))

  const c = await create(env, {})
  const deleted = await authlete.token.management.delete({ serviceId, accessTokenIdentifier: hashOf(c.accessToken) })
  assert.equal(deleted, undefined)
  await assert.rejects(authlete.token.management.delete({ serviceId, accessTokenIdentifier: c.accessToken }), (err) => {
    assert.equal(err.statusCode, 404)
    return true
  })
  await assert.rejects(authlete.token.management.revoke({ serviceId, tokenRevokeRequest: {} }), (err) => {
    assert.ok(err instanceof ResultError)
    assert.equal(err.statusCode, 400)
    assert.equal(err.resultCode, 'A105201')
    return true
  })
})

test('client.management: authorizations and granted scopes', async () => {
  const env = await setup()
  const { authlete, serviceId, cl } = env
  await create(env, { scopes: ['photos.read'] })
  const newest = await create(env, { scopes: ['photos.write'] })
  const clientId = String(cl.id)
  const subject = { subjectPathParameter: 'john', subjectQueryParameter: 'john' }

  const list = await authlete.client.management.listAuthorizations({ serviceId, ...subject })
  assert.equal(list.totalCount, 1)
  assert.equal(list.subject, 'john')
  assert.equal(list.clients[0].clientId, cl.id)
  assert.equal(list.clients[0].clientIdAlias, cl.client_id)

  const granted = await authlete.client.management.getGrantedScopes({ serviceId, clientId, ...subject })
  assert.deepEqual(granted.latestGrantedScopes, ['photos.write'])
  assert.deepEqual(granted.mergedGrantedScopes, ['photos.read', 'photos.write'])
  assert.equal(granted.clientId, cl.id)
  assert.equal(granted.subject, 'john')
  assert.equal(granted.serviceApiKey, env.svc.id)
  const listed = await authlete.token.management.list({ serviceId })
  assert.equal(granted.modifiedAt, Math.max(...listed.accessTokens.map((t) => t.createdAt)))
  assert.ok(newest.tokenId)

  const updated = await authlete.client.management.updateAuthorizations({
    serviceId, clientId, clientAuthorizationUpdateRequest: { subject: 'john', scopes: ['photos.read'] },
  })
  assert.equal(updated.resultCode, 'A202101')
  const after = await authlete.client.management.getGrantedScopes({ serviceId, clientId, ...subject })
  assert.deepEqual(after.mergedGrantedScopes, ['photos.read'])

  const del = await authlete.client.management.deleteAuthorizations({ serviceId, clientId, ...subject })
  assert.equal(del.resultCode, 'A203101')
  const none = await authlete.client.management.listAuthorizations({ serviceId, ...subject })
  assert.equal(none.totalCount, 0)
  const gone = await authlete.client.management.getGrantedScopes({ serviceId, clientId, ...subject })
  assert.equal(gone.mergedGrantedScopes, undefined)

  await create(env, {})
  const scopesDeleted = await authlete.client.management.deleteGrantedScopes({ serviceId, clientId: cl.client_id, ...subject })
  assert.equal(scopesDeleted.resultCode, 'A205101')
  assert.equal((await authlete.token.management.list({ serviceId })).totalCount, 0)
})

test('introspection.process: usable, insufficient scope, unknown', async () => {
  const env = await setup()
  const { authlete, serviceId, cl } = env
  const tok = await create(env, { properties: [{ key: 'plan', value: 'gold', hidden: true }] })

  const ok = await authlete.introspection.process({ serviceId, introspectionRequest: { token: tok.accessToken, scopes: ['photos.read'], subject: 'john' } })
  assert.equal(ok.action, 'OK')
  assert.equal(ok.usable, true)
  assert.equal(ok.existent, true)
  assert.equal(ok.sufficient, true)
  assert.equal(ok.refreshable, true)
  assert.equal(ok.clientId, cl.id)
  assert.equal(ok.clientIdAlias, cl.client_id)
  assert.equal(ok.subject, 'john')
  assert.equal(ok.expiresAt, tok.expiresAt)
  assert.deepEqual(ok.scopes, ['photos.read'])
  assert.deepEqual(ok.properties, [{ key: 'plan', value: 'gold', hidden: true }])
  assert.equal(ok.grantType, 'AUTHORIZATION_CODE')

  const scope = await authlete.introspection.process({ serviceId, introspectionRequest: { token: tok.accessToken, scopes: ['photos.write'] } })
  assert.equal(scope.action, 'FORBIDDEN')
  assert.equal(scope.sufficient, false)
  assert.match(scope.responseContent, /^Bearer error="insufficient_scope",error_description="\[A301606\] [^"]+",scope="photos.write"$/)

  const unknown = await authlete.introspection.process({ serviceId, introspectionRequest: { token: 'never-issued-token' } })
  assert.equal(unknown.action, 'UNAUTHORIZED')
  assert.equal(unknown.existent, false)
  assert.match(unknown.responseContent, /^Bearer error="invalid_token"/)
})

test('introspection.standardProcess: RFC 7662 in responseContent, hidden properties on request', async () => {
  const env = await setup()
  const { authlete, serviceId, cl } = env
  const tok = await create(env, { properties: [{ key: 'plan', value: 'gold' }, { key: 'internal', value: 'x', hidden: true }] })
  const parameters = new URLSearchParams({ token: tok.accessToken }).toString()

  const res = await authlete.introspection.standardProcess({ serviceId, standardIntrospectionRequest: { parameters } })
  assert.equal(res.action, 'OK')
  const body = JSON.parse(res.responseContent)
  assert.equal(body.active, true)
  assert.equal(body.scope, 'photos.read')
  assert.equal(body.client_id, cl.client_id)
  assert.equal(body.sub, 'john')
  assert.equal(body.exp, Math.floor(tok.expiresAt / 1000))
  assert.equal(body.iss, `${baseURL}/oauth/${env.svc.id}`)
  assert.equal(body.plan, 'gold')
  assert.equal(body.internal, undefined)

  const hidden = await authlete.introspection.standardProcess({ serviceId, standardIntrospectionRequest: { parameters, withHiddenProperties: true } })
  assert.equal(JSON.parse(hidden.responseContent).internal, 'x')

  const inactive = await authlete.introspection.standardProcess({ serviceId, standardIntrospectionRequest: { parameters: 'token=nope-not-a-token' } })
  assert.deepEqual(JSON.parse(inactive.responseContent), { active: false })
})

test('revocation.process: RFC 7009 for an authenticated client', async () => {
  const env = await setup()
  const { authlete, serviceId, cl } = env
  const tok = await create(env, {})
  const parameters = new URLSearchParams({ token: tok.refreshToken, token_type_hint: 'refresh_token' }).toString()

  const bad = await authlete.revocation.process({ serviceId, revocationRequest: { parameters, clientId: cl.client_id, clientSecret: 'tks_wrong' } })
  assert.equal(bad.action, 'INVALID_CLIENT')
  assert.equal(JSON.parse(bad.responseContent).error, 'invalid_client')
  assert.equal((await authlete.token.management.list({ serviceId })).totalCount, 1, 'a refused revocation revokes nothing')

  const res = await authlete.revocation.process({ serviceId, revocationRequest: { parameters, clientId: cl.client_id, clientSecret: cl.client_secret } })
  assert.equal(res.action, 'OK')
  assert.equal(res.resultCode, 'A303101')
  assert.equal((await authlete.token.management.list({ serviceId })).totalCount, 0, 'revoking the refresh token revokes its record')
  const introspected = await authlete.introspection.process({ serviceId, introspectionRequest: { token: tok.accessToken } })
  assert.equal(introspected.action, 'UNAUTHORIZED')
})

test('token.process: the token endpoint for the authorization server front end', async () => {
  const env = await setup()
  const { authlete, serviceId, cl } = env
  const res = await authlete.token.process({
    serviceId,
    tokenRequest: { parameters: 'grant_type=client_credentials&scope=photos.read', clientId: cl.client_id, clientSecret: cl.client_secret },
  })
  assert.equal(res.action, 'OK')
  const body = JSON.parse(res.responseContent)
  assert.equal(body.access_token, res.accessToken)
  assert.equal(body.token_type, 'Bearer')
  assert.equal(body.scope, 'photos.read')
  assert.equal(res.grantType, 'CLIENT_CREDENTIALS')
  assert.equal(res.clientId, cl.id)
  const ok = await authlete.introspection.process({ serviceId, introspectionRequest: { token: res.accessToken } })
  assert.equal(ok.action, 'OK', 'the token answered is live')

  const invalid = await authlete.token.process({ serviceId, tokenRequest: { parameters: 'grant_type=refresh_token&refresh_token=nope', clientId: cl.client_id, clientSecret: cl.client_secret } })
  assert.equal(invalid.action, 'BAD_REQUEST')
  assert.equal(JSON.parse(invalid.responseContent).error, 'invalid_grant')
})

test('errors: a wrong bearer is a ResultError 401; another service is 404', async () => {
  const env = await setup()
  const wrong = new Authlete({ serverURL: baseURL, bearer: 'tkk_not-a-key', timeoutMs: requestTimeoutMs })
  await assert.rejects(wrong.token.management.list({ serviceId: env.serviceId }), (err) => {
    assert.ok(err instanceof ResultError, `want ResultError, got ${err?.constructor?.name}`)
    assert.equal(err.statusCode, 401)
    assert.equal(err.resultCode, 'A101401')
    return true
  })
  const other = await createService()
  await assert.rejects(env.authlete.token.management.list({ serviceId: String(other.id) }), (err) => {
    assert.equal(err.statusCode, 404)
    assert.equal(JSON.parse(err.body).resultCode, 'A101301')
    return true
  })
})
