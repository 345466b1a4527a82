#!/usr/bin/env bash
# Regenerates the bundled example PKI (keys are throw-away; never use them elsewhere).
#   root.pem            "Example Bank Root CA" (the policy's custom trust anchor)
#   chain.pem           api.example.com leaf + "Example Issuing CA 1" (the legitimate chain)
#   misissued-chain.pem api.example.com leaf + "Example Issuing CA 2": valid for the root,
#                       but not pinned (a mis-issued certificate)
#   spare-key.pub.pem   public half of the backup key whose pin sits in the policy (BP-5);
#                       its private half would be kept offline, so it is not kept here
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ec() { openssl ecparam -name prime256v1 -genkey -noout -out "$1"; }
ec "$tmp/root.key"; ec "$tmp/ca1.key"; ec "$tmp/ca2.key"; ec "$tmp/leaf1.key"; ec "$tmp/leaf2.key"
ec "$tmp/spare.key"
openssl pkey -in "$tmp/spare.key" -pubout -out spare-key.pub.pem
openssl req -x509 -new -key "$tmp/root.key" -subj "/O=Example Bank/CN=Example Bank Root CA" \
  -days 3650 -not_before 20260101000000Z -not_after 20351231000000Z -sha256 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out root.pem 2>/dev/null || openssl req -x509 -new -key "$tmp/root.key" \
  -subj "/O=Example Bank/CN=Example Bank Root CA" -days 3650 -sha256 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out root.pem
issue() { # key subject issuer-cert issuer-key ext out
  openssl req -new -key "$1" -subj "$2" -out "$tmp/req.csr"
  printf '%b' "$5" > "$tmp/ext.cnf"
  openssl x509 -req -in "$tmp/req.csr" -CA "$3" -CAkey "$4" -CAcreateserial -days 3000 -sha256 \
    -extfile "$tmp/ext.cnf" -out "$6" 2>/dev/null
}
CAEXT='basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n'
LEAFEXT='basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:api.example.com,DNS:www.example.com\n'
issue "$tmp/ca1.key" "/O=Example Bank/CN=Example Issuing CA 1" root.pem "$tmp/root.key" "$CAEXT" "$tmp/ca1.pem"
issue "$tmp/ca2.key" "/O=Example Bank/CN=Example Issuing CA 2" root.pem "$tmp/root.key" "$CAEXT" "$tmp/ca2.pem"
issue "$tmp/leaf1.key" "/CN=api.example.com" "$tmp/ca1.pem" "$tmp/ca1.key" "$LEAFEXT" "$tmp/leaf1.pem"
issue "$tmp/leaf2.key" "/CN=api.example.com" "$tmp/ca2.pem" "$tmp/ca2.key" "$LEAFEXT" "$tmp/leaf2.pem"
cat "$tmp/leaf1.pem" "$tmp/ca1.pem" > chain.pem
cat "$tmp/leaf2.pem" "$tmp/ca2.pem" > misissued-chain.pem
pin() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64; }
spare=$(openssl pkey -pubin -in spare-key.pub.pem -outform der | openssl dgst -sha256 -binary | base64)
cat > policy.toml <<TOML
# Example Mamori pin policy (guideline DEV-4, BP-5).
# Pins: the issuing CA's key, plus a spare key kept offline as the backup pin.
profile = "strict"
on_expiry = "fail-open"

[trust]
# A private PKI: only this root is trusted (the Mozilla roots are off when custom anchors are given).
anchor_files = ["root.pem"]

[[domain]]
host = "api.example.com"
pins = [
  "sha256/$(pin "$tmp/ca1.pem")", # Example Issuing CA 1
  "sha256/$spare", # spare key (spare-key.pub.pem), not yet in use
]
expires = "2030-01-01"

[[domain]]
host = "**.cdn.example.com"
report_only = true
pins = ["sha256/$(pin root.pem)"]
TOML
rm -f ./*.srl
