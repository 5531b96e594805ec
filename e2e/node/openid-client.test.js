// tokend's OAuth endpoints driven by openid-client v6, the high-level client
// most Node.js applications use: discovery by issuer, then grants through a
// Configuration, as an application would write it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as client from 'openid-client'
import {
  SCOPES, assertScope, assertTokenResponse, baseURL, callbackURL,
  createClient, createService, createUser, mintCode, nowSeconds, requestTimeoutMs,
} from './helpers.js'

// configure discovers the service's issuer for a client. allowInsecureRequests:
// plain http on loopback; timeout bounds every request the Configuration makes.
async function configure(svc, cl, auth) {
  const config = await client.discovery(new URL(svc.issuer), cl.client_id, cl.client_secret, auth, {
    execute: [client.allowInsecureRequests],
    algorithm: 'oauth2',
    timeout: requestTimeoutMs / 1000,
  })
  assert.equal(config.serverMetadata().issuer, `${baseURL}/oauth/${svc.id}`)
  return config
}

async function setup(clientOpts = {}) {
  const svc = await createService()
  const cl = await createClient(svc, clientOpts)
  const auth = cl.client_secret ? client.ClientSecretBasic(cl.client_secret) : client.None()
  return { svc, cl, config: await configure(svc, cl, auth) }
}

// codeFlow: the host application mints a code for the PKCE challenge and
// "redirects" to the callback URL, which authorizationCodeGrant validates
// (state, iss) and redeems with the verifier.
async function codeFlow({ svc, cl, config }, scopes = ['photos.read']) {
  const verifier = client.randomPKCECodeVerifier()
  const challenge = await client.calculatePKCECodeChallenge(verifier)
  const code = await mintCode(svc, cl, { codeChallenge: challenge, scopes })
  const tokens = await client.authorizationCodeGrant(config, callbackURL(config.serverMetadata(), code), {
    pkceCodeVerifier: verifier,
  })
  assertTokenResponse(tokens, { scope: scopes.join(' '), refresh: true })
  return tokens
}

async function assertRejected(promise, error) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof client.ResponseBodyError, `want ResponseBodyError, got ${err?.constructor?.name}: ${err?.message}`)
    assert.equal(err.error, error, `error ${err.error} (${err.error_description}), want ${error}`)
    assert.equal(err.status, 400)
    return true
  })
}

test('discovery: Configuration from the issuer identifier', async () => {
  const { svc, config } = await setup()
  const md = config.serverMetadata()
  assert.equal(md.token_endpoint, `${svc.issuer}/token`)
  assert.equal(md.introspection_endpoint, `${svc.issuer}/introspect`)
  assert.equal(md.revocation_endpoint, `${svc.issuer}/revoke`)
  assert.ok(md.supportsPKCE('S256'))
  assert.deepEqual([...md.scopes_supported].sort(), [...SCOPES].sort())

  // A URL that is not an issuer has no metadata.
  await assert.rejects(client.discovery(new URL(`${svc.issuer}/token`), 'x', undefined, undefined, {
    execute: [client.allowInsecureRequests], algorithm: 'oauth2', timeout: requestTimeoutMs / 1000,
  }))
})

test('clientCredentialsGrant with client_secret_basic and client_secret_post', async () => {
  const { svc, cl, config } = await setup()
  const t1 = await client.clientCredentialsGrant(config, { scope: 'photos.write' })
  assertTokenResponse(t1, { scope: 'photos.write', refresh: false })
  assert.ok(t1.expiresIn() > 0 && t1.expiresIn() <= 3600)

  // openid-client's default method is client_secret_post.
  const post = await configure(svc, cl)
  const t2 = await client.clientCredentialsGrant(post)
  assertTokenResponse(t2, { scope: SCOPES.join(' '), refresh: false })
})

test('authorizationCodeGrant with PKCE: confidential and public clients', async () => {
  const conf = await setup()
  const t = await codeFlow(conf, ['photos.read', 'photos.write'])
  const info = await client.tokenIntrospection(conf.config, t.access_token)
  assert.equal(info.active, true)
  assert.equal(info.sub, 'alice')
  assertScope(info.scope, 'photos.read photos.write')

  const pub = await setup({ type: 'PUBLIC' })
  const tp = await codeFlow(pub)
  // A public client cannot introspect; a resource server (a confidential
  // client of the same service) checks the token instead.
  await assert.rejects(client.tokenIntrospection(pub.config, tp.access_token), (err) => err.status === 401)
  const rs = await createClient(pub.svc, { grantTypes: ['CLIENT_CREDENTIALS'] })
  const rsConfig = await configure(pub.svc, rs, client.ClientSecretBasic(rs.client_secret))
  const pinfo = await client.tokenIntrospection(rsConfig, tp.access_token)
  assert.equal(pinfo.active, true)
  assert.equal(pinfo.client_id, pub.cl.client_id)

  // A verifier that does not match the code's challenge.
  const code = await mintCode(pub.svc, pub.cl, {
    codeChallenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
  })
  await assertRejected(client.authorizationCodeGrant(pub.config, callbackURL(pub.config.serverMetadata(), code), {
    pkceCodeVerifier: client.randomPKCECodeVerifier(),
  }), 'invalid_grant')
})

test('refreshTokenGrant: rotation, and the rotated token replayed is invalid_grant', async () => {
  const s = await setup()
  const t1 = await codeFlow(s)
  const t2 = await client.refreshTokenGrant(s.config, t1.refresh_token)
  assertTokenResponse(t2, { scope: 'photos.read', refresh: true })
  assert.notEqual(t2.refresh_token, t1.refresh_token)
  assert.notEqual(t2.access_token, t1.access_token)

  await assertRejected(client.refreshTokenGrant(s.config, t1.refresh_token), 'invalid_grant')
  // Reuse detection revoked the grant, including the successor.
  assert.equal((await client.tokenIntrospection(s.config, t2.access_token)).active, false)
  await assertRejected(client.refreshTokenGrant(s.config, t2.refresh_token), 'invalid_grant')
})

test('tokenIntrospection and tokenRevocation', async () => {
  const s = await setup()
  const before = nowSeconds()
  const cc = await client.clientCredentialsGrant(s.config, { scope: 'photos.read' })
  const info = await client.tokenIntrospection(s.config, cc.access_token)
  assert.equal(info.active, true)
  assert.equal(info.client_id, s.cl.client_id)
  assertScope(info.scope, 'photos.read')
  assert.ok(info.exp > before, `exp ${info.exp}`)

  assert.equal(await client.tokenRevocation(s.config, cc.access_token), undefined)
  assert.deepEqual(await client.tokenIntrospection(s.config, cc.access_token), { active: false })

  // Revoking the refresh token ends its access token as well.
  const t = await codeFlow(s)
  await client.tokenRevocation(s.config, t.refresh_token, { token_type_hint: 'refresh_token' })
  assert.deepEqual(await client.tokenIntrospection(s.config, t.access_token), { active: false })
  await assertRejected(client.refreshTokenGrant(s.config, t.refresh_token), 'invalid_grant')

  // Unknown token: still 200 (RFC 7009 §2.2).
  await client.tokenRevocation(s.config, 'tkr_' + 'z'.repeat(40))
})

test('genericGrantRequest: password grant', async () => {
  const svc = await createService(['PASSWORD', 'REFRESH_TOKEN'])
  const cl = await createClient(svc, { grantTypes: ['PASSWORD', 'REFRESH_TOKEN'] })
  await createUser(svc, 'carol', 'a long enough passphrase')
  const config = await configure(svc, cl, client.ClientSecretBasic(cl.client_secret))
  const t = await client.genericGrantRequest(config, 'password', { username: 'carol', password: 'a long enough passphrase' })
  assertTokenResponse(t, { scope: SCOPES.join(' '), refresh: true })
  assert.equal((await client.tokenIntrospection(config, t.access_token)).sub, 'carol')
  const t2 = await client.refreshTokenGrant(config, t.refresh_token)
  assertTokenResponse(t2, { scope: SCOPES.join(' '), refresh: true })
  await assertRejected(client.genericGrantRequest(config, 'password', { username: 'carol', password: 'not the passphrase' }), 'invalid_grant')
})
