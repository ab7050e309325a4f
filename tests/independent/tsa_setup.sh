#!/bin/sh
# tsa_setup.sh DIR [NAME] - a test certificate authority and an RFC 3161
# time-stamping authority for the loopback TSA (tsa_server.py): DIR/ca.pem,
# DIR/tsa.pem (extendedKeyUsage critical timeStamping), DIR/tsa.key and
# DIR/tsa.cnf for `openssl ts -reply`.  Test material only.
set -eu
d=$1
name=${2:-Evident Test}
mkdir -p "$d"
cd "$d"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=$name Root CA" -keyout ca.key -out ca.pem \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
	2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj "/CN=$name TSA" -keyout tsa.key -out tsa.csr 2>/dev/null
cat >tsa.ext <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=critical,timeStamping
EXT
openssl x509 -req -in tsa.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
	-extfile tsa.ext -out tsa.pem 2>/dev/null
echo 01 >tsaserial
cat >tsa.cnf <<CNF
[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = $(pwd)
serial = \$dir/tsaserial
crypto_device = builtin
signer_cert = \$dir/tsa.pem
certs = \$dir/ca.pem
signer_key = \$dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF
