#!/bin/sh
# token-cgi.sh - the bearer token service for the store tests, run as a
# CGI program by busybox httpd. It answers the distribution token flow:
# GET ?service=S&scope=repository:NAME:ACTIONS -> {"token": JWT}, the JWT
# signed (RS256) with the test key and carrying the test certificate in
# x5c, which the registry trusts through auth.token.rootcertbundle.
# TOKEN_DIR (set in httpd's environment via the wrapper) holds key.pem,
# cert.der.b64 and token.log.
set -eu
dir="${TOKEN_DIR:?}"
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
urldecode() { printf '%s' "$1" | sed 's/%3[Aa]/:/g; s/%2[Ff]/\//g; s/%2[Cc]/,/g; s/%20/ /g; s/+/ /g'; }

scope=""
for kv in $(printf '%s' "${QUERY_STRING:-}" | tr '&' ' '); do
	case "$kv" in scope=*) scope=$(urldecode "${kv#scope=}") ;; esac
done
name=$(printf '%s' "$scope" | sed -n 's/^repository:\(.*\):[^:]*$/\1/p')
echo "token user=${REMOTE_USER:--} scope=$scope" >> "$dir/token.log"

now=$(date +%s)
header=$(printf '{"alg":"RS256","typ":"JWT","x5c":["%s"]}' "$(cat "$dir/cert.der.b64")" | b64url)
claims=$(printf '{"iss":"sm-test-issuer","sub":"%s","aud":"sm-test-registry","exp":%d,"nbf":%d,"iat":%d,"jti":"%s","access":[{"type":"repository","name":"%s","actions":["pull","push"]}]}' \
	"${REMOTE_USER:-anonymous}" $((now + 600)) $((now - 60)) "$now" "$$-$now" "$name" | b64url)
sig=$(printf '%s.%s' "$header" "$claims" | openssl dgst -sha256 -sign "$dir/key.pem" -binary | b64url)
printf 'Content-Type: application/json\r\n\r\n'
printf '{"token":"%s.%s.%s","expires_in":600}\n' "$header" "$claims" "$sig"
