#!/usr/bin/env bash
# The README's curl walk-through, with each answer checked. Run it against a
# fresh server: TOKEND_URL=http://127.0.0.1:8080 KEY=<org key> bash scripts/walkthrough.sh
# The end-to-end tests in cmd/tokend run it against a server they start.
set -euo pipefail
: "${TOKEND_URL:?set TOKEND_URL}" "${KEY:?set KEY to an organization key}"
auth="Authorization: Bearer $KEY"

fail() { echo "walkthrough: $*" >&2; exit 1; }
# call METHOD PATH [BODY]: prints the body; fails unless the status is 2xx.
call() {
  local out status
  out=$(mktemp)
  status=$(curl -sS -o "$out" -w '%{http_code}' -X "$1" -H "$auth" ${3:+-d "$3"} "$TOKEND_URL$2")
  [[ $status == 2* ]] || fail "$1 $2 answered $status: $(cat "$out")"
  cat "$out"; rm -f "$out"
}

curl -sSf "$TOKEND_URL/healthz" | jq -e '.status == "ok"' >/dev/null || fail "healthz"

SID=$(call POST /v1/services '{"name":"photos","scopes_supported":["photos.read","photos.write","openid"]}' | jq -er .id)
call GET "/v1/services/$SID" | jq -e --arg u "$TOKEND_URL/oauth/$SID" '.issuer == $u' >/dev/null || fail "issuer"

client=$(call POST "/v1/services/$SID/clients" '{
  "name":"Photo Printer","type":"CONFIDENTIAL",
  "grant_types":["AUTHORIZATION_CODE","REFRESH_TOKEN","CLIENT_CREDENTIALS"],
  "scopes":["photos.read","openid"],"redirect_uris":["https://printer.example/cb"]}')
CID=$(jq -er .client_id <<<"$client")
jq -e '.client_secret | startswith("tks_")' <<<"$client" >/dev/null || fail "client secret"

auditor=$(call POST "/v1/services/$SID/keys" '{"name":"auditor","permissions":["tokens.read"]}' | jq -er .key)

token=$(call POST "/v1/services/$SID/tokens" "{\"client\":\"$CID\",\"grant_type\":\"AUTHORIZATION_CODE\",\"subject\":\"john\",\"scopes\":[\"photos.read\"]}")
AT=$(jq -er .access_token <<<"$token")
jq -e '.refresh_token | startswith("tkr_")' <<<"$token" >/dev/null || fail "refresh token"

list=$(curl -sSf -H "Authorization: Bearer $auditor" "$TOKEND_URL/v1/services/$SID/tokens?subject=john&page_size=20")
jq -e '.total_count == 1 and (.tokens[0].access_token_hash | length) == 43 and (.tokens[0] | has("access_token") | not)' <<<"$list" >/dev/null || fail "list: $list"

call POST "/v1/services/$SID/tokens/lookup" "{\"token\":\"$AT\"}" | jq -e '.subject == "john" and .status == "active"' >/dev/null || fail "lookup"
call GET "/v1/services/$SID/subjects/john/grants" | jq -e --arg c "$CID" '.grants[0].client.client_id == $c and .grants[0].token_count == 1' >/dev/null || fail "grants"

call POST "/v1/services/$SID/tokens/revoke" "{\"client\":\"$CID\"}" | jq -e '.count == 1' >/dev/null || fail "revoke"
call POST "/v1/services/$SID/tokens/lookup" "{\"token\":\"$AT\"}" | jq -e '.status == "revoked"' >/dev/null || fail "revoked status"
echo "walkthrough: ok"
