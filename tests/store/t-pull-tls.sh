#!/bin/bash
# HTTPS: a registry serving TLS on 127.0.0.1 is reached over https (the
# loopback probe picks TLS when the handshake works), its certificate is
# checked (unknown CA -> clear error, nothing stored; the right CA file ->
# success), and a registry the user marks insecure is spoken to in plain
# http only.
. "$(dirname "$0")/lib.sh"

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
	-days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2> /dev/null
REG_HTTP_EXTRA="  tls:
    certificate: $WORK/cert.pem
    key: $WORK/key.pem"
start_registry reg
simple_image "$WORK/img" 2 gzip
push "$WORK/img" test/img:v1
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/")" = 400 ] ||
	fail "registry is not serving TLS"

expect_fail "certificate\|SSL" sm pull "$REG/test/img:v1"
store_empty
sm pull "$REG/test/img:v1" --ca-file "$WORK/cert.pem" > /dev/null || fail "https pull"
sm fsck > /dev/null || fail fsck
rm -rf "$WORK/store"
expect_fail "HTTP 400" sm pull "$REG/test/img:v1" --insecure "$REG"
note ok
