#!/usr/bin/env bash
# The README's OAuth walk-through, with each answer checked: a client gets a
# token, a resource server introspects it, the client revokes it; a host
# application mints an authorization code that a public client redeems
# with PKCE, then refreshes with rotation. Run it against a fresh server:
# TOKEND_URL=http://127.0.0.1:8080 KEY=<org key> bash scripts/oauth-walkthrough.sh
set -euo pipefail
: "${TOKEND_URL:?set TOKEND_URL}" "${KEY:?set KEY to an organization key}"
auth="Authorization: Bearer $KEY"
fail() { echo "oauth-walkthrough: $*" >&2; exit 1; }
api() { curl -sS -f -X "$1" -H "$auth" ${3:+-d "$3"} "$TOKEND_URL$2" || fail "$1 $2 failed"; }

SID=$(api POST /v1/services '{"name":"shop","scopes_supported":["orders.read","orders.write"]}' | jq -er .id)
ISSUER="$TOKEND_URL/oauth/$SID"

# Discovery (RFC 8414): the metadata sits at the issuer's well-known path.
meta=$(curl -sSf "$TOKEND_URL/.well-known/oauth-authorization-server/oauth/$SID")
jq -e --arg i "$ISSUER" '.issuer == $i and .token_endpoint == ($i + "/token")' <<<"$meta" >/dev/null || fail "metadata: $meta"

# A confidential client gets a token with its credentials (client_secret_basic).
client=$(api POST "/v1/services/$SID/clients" '{"name":"billing","grant_types":["CLIENT_CREDENTIALS"],"scopes":["orders.read"]}')
CID=$(jq -er .client_id <<<"$client"); SECRET=$(jq -er .client_secret <<<"$client")
tok=$(curl -sSf -u "$CID:$SECRET" -d grant_type=client_credentials -d scope=orders.read "$ISSUER/token")
AT=$(jq -er .access_token <<<"$tok")
jq -e '.token_type == "Bearer" and .expires_in > 0 and .scope == "orders.read"' <<<"$tok" >/dev/null || fail "token: $tok"

# A resource server introspects it (RFC 7662), here with a management key
# that holds tokens.introspect; a client of the service may introspect too.
RS=$(api POST "/v1/services/$SID/keys" '{"name":"orders-api","permissions":["tokens.introspect"]}' | jq -er .key)
curl -sSf -H "Authorization: Bearer $RS" --data-urlencode "token=$AT" "$ISSUER/introspect" \
  | jq -e --arg c "$CID" '.active and .client_id == $c and .scope == "orders.read"' >/dev/null || fail "introspect"

# The client revokes it (RFC 7009); introspection then says inactive.
curl -sSf -u "$CID:$SECRET" --data-urlencode "token=$AT" "$ISSUER/revoke" >/dev/null || fail "revoke"
curl -sSf -H "Authorization: Bearer $RS" --data-urlencode "token=$AT" "$ISSUER/introspect" \
  | jq -e '. == {"active": false}' >/dev/null || fail "introspect after revoke"

# Authorization code + PKCE. The host application has signed the user in and
# got consent; it asks tokend for a code and redirects the browser with it.
app=$(api POST "/v1/services/$SID/clients" '{"name":"shop-spa","type":"PUBLIC","grant_types":["AUTHORIZATION_CODE","REFRESH_TOKEN"],"scopes":["orders.read","orders.write"],"redirect_uris":["https://shop.example/cb"]}')
APP=$(jq -er .client_id <<<"$app")
VERIFIER=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
CHALLENGE=$(printf %s "$VERIFIER" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=')
CODE=$(api POST "/v1/services/$SID/authorization-codes" "{\"client\":\"$APP\",\"subject\":\"john\",\"scopes\":[\"orders.read\"],\"redirect_uri\":\"https://shop.example/cb\",\"code_challenge\":\"$CHALLENGE\",\"code_challenge_method\":\"S256\"}" | jq -er .code)

# The client redeems it at the token endpoint (no secret: a public client).
tok=$(curl -sSf -d grant_type=authorization_code -d client_id="$APP" --data-urlencode "code=$CODE" \
  -d redirect_uri=https://shop.example/cb -d code_verifier="$VERIFIER" "$ISSUER/token")
RT=$(jq -er .refresh_token <<<"$tok")

# Refresh rotates: a new refresh token each time; the old one is now dead,
# and presenting it again revokes the whole grant.
tok2=$(curl -sSf -d grant_type=refresh_token -d client_id="$APP" --data-urlencode "refresh_token=$RT" "$ISSUER/token")
RT2=$(jq -er .refresh_token <<<"$tok2")
[[ $RT2 != "$RT" ]] || fail "refresh did not rotate"
replay=$(curl -sS -d grant_type=refresh_token -d client_id="$APP" --data-urlencode "refresh_token=$RT" "$ISSUER/token")
jq -e '.error == "invalid_grant"' <<<"$replay" >/dev/null || fail "replay: $replay"
echo "oauth-walkthrough: ok"
