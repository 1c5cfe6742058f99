#!/bin/bash
# Authentication against the real registry: htpasswd basic auth (missing
# credentials, a bad password, explicit credentials, ~/.docker/config.json
# `auths`, credential helpers via credsStore/credHelpers), and bearer tokens from a token service started here (anonymous
# token flow with one token reused for the whole pull; a token service
# that wants credentials, with a bad and a good password).
. "$(dirname "$0")/lib.sh"

start_registry reg
simple_image "$WORK/img" 2 gzip
push "$WORK/img" test/img:v1
stop_registry

note "basic auth (htpasswd)"
htpasswd -Bbn alice s3cret > "$WORK/htpasswd"
start_registry reg "auth:
  htpasswd:
    realm: sm-test
    path: $WORK/htpasswd"
export HOME="$WORK/home" DOCKER_CONFIG=
expect_fail "requires a login" sm pull "$REG/test/img:v1"
expect_fail "HTTP 401" sm pull "$REG/test/img:v1" --user alice:wrong
store_empty
sm pull "$REG/test/img:v1" --user alice:s3cret > /dev/null || fail "basic auth pull"
rm -rf "$WORK/store"
mkdir -p "$HOME/.docker"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG" "$(printf 'alice:s3cret' | base64)" \
	> "$HOME/.docker/config.json"
sm pull "$REG/test/img:v1" > /dev/null || fail "pull with ~/.docker/config.json"
printf '{"auths":{"http://%s":{"auth":"%s"}}}' "$REG" "$(printf 'alice:nope' | base64)" \
	> "$WORK/badcfg.json"
expect_fail "HTTP 401" sm pull "$REG/test/img:v1" --docker-config "$WORK/badcfg.json"

note "credential helpers (credsStore, credHelpers)"
mkdir -p "$WORK/bin"
cat > "$WORK/bin/docker-credential-smtest" <<EOS
#!/bin/sh
[ "\$1" = get ] || exit 2
read -r server
echo "\$server" >> "$WORK/helper.log"
if [ "\$server" = "$REG" ]; then
	printf '{"ServerURL":"%s","Username":"alice","Secret":"s3cret"}\n' "\$server"
else
	echo "credentials not found in native keychain"; exit 1
fi
EOS
printf '#!/bin/sh\necho "credentials not found in native keychain"\nexit 1\n' > "$WORK/bin/docker-credential-smnone"
chmod +x "$WORK/bin/"docker-credential-*
export PATH="$WORK/bin:$PATH"
rm -rf "$WORK/store"
printf '{"credsStore":"smtest","auths":{"%s":{"auth":"%s"}}}' "$REG" "$(printf 'alice:nope' | base64)" \
	> "$HOME/.docker/config.json"
sm pull "$REG/test/img:v1" > /dev/null || fail "pull with credsStore"
grep -qx "$REG" "$WORK/helper.log" || fail "helper not asked for $REG"
printf '{"credsStore":"smtest","credHelpers":{"%s":"smnone"}}' "$REG" > "$HOME/.docker/config.json"
expect_fail "requires a login" sm pull "$REG/test/img:v1"
printf '{"credsStore":"absent"}' > "$HOME/.docker/config.json"
expect_fail "docker-credential-absent not found in PATH" sm pull "$REG/test/img:v1"
stop_registry
rm -rf "$WORK/store" "$HOME/.docker"

note "anonymous bearer token"
start_token_service
start_registry reg "$(token_auth_yaml token)"
curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/test/img/manifests/v1" | grep -q 401 ||
	fail "registry does not demand a token"
sm pull "$REG/test/img:v1" > /dev/null || fail "token pull"
[ "$(grep -c '^token ' "$TOKEN_DIR/token.log")" = 1 ] ||
	fail "token not reused: $(cat "$TOKEN_DIR/token.log")"
grep -q "scope=repository:test/img:pull" "$TOKEN_DIR/token.log" || fail "scope not sent"
sm fsck > /dev/null || fail fsck
stop_registry
rm -rf "$WORK/store"

note "bearer token service that wants credentials"
start_registry reg "$(token_auth_yaml private-token)"
expect_fail "requires a login\|HTTP 401" sm pull "$REG/test/img:v1"
expect_fail "token request.*HTTP 401" sm pull "$REG/test/img:v1" --user bob:bad
store_empty
sm pull "$REG/test/img:v1" --user bob:pw > /dev/null || fail "token pull with credentials"
grep -q "token user=bob" "$TOKEN_DIR/token.log" || fail "credentials not sent to the token service"
note ok
