#!/usr/bin/env bash
# Manufactures a software TPM state certified like a real TPM, for test suites
# that start swtpm themselves (C, signer, Python fixtures):
#
#   tests/support/certified-swtpm-template.sh OUT_DIR [CA_DIR]
#
# writes OUT_DIR/state/tpm2-00.permall (a TPM with RSA 2048 and ECC P-256 EK
# certificates in NV, and a platform certificate) signed by a local CA in
# CA_DIR (default OUT_DIR/ca; created on first use, so two TPMs made with one
# CA_DIR are two TPMs of one vendor), and OUT_DIR/roots.pem: that CA's root
# and intermediate, the
# trust roots a wallet must be given for it. Copy the permall file into each
# swtpm's --tpmstate directory (a copy is the same TPM: same seeds). The EK
# certificates are also written to OUT_DIR/ek-certs (DER, as swtpm_setup
# names them: ek-rsa2048.crt, ek-secp384r1.crt or ek-secp256r1.crt). Takes
# about 1.5 s, so make one per suite run.
set -euo pipefail
out=${1:?usage: certified-swtpm-template.sh OUT_DIR [CA_DIR]}
ca=${2:-$out/ca}
command -v swtpm_setup >/dev/null ||
  { echo "swtpm_setup is missing: apt-get install swtpm-tools" >&2; exit 1; }
mkdir -p "$out/state" "$ca"
out=$(cd "$out" && pwd)
ca=$(cd "$ca" && pwd)
cat >"$ca/swtpm-localca.conf" <<CONF
statedir = $ca
signingkey = $ca/signkey.pem
issuercert = $ca/issuercert.pem
certserial = $ca/certserial
CONF
cat >"$ca/swtpm-localca.options" <<'CONF'
--platform-manufacturer flare-wallet-test
--platform-version 2.1
--platform-model swtpm
CONF
cat >"$ca/swtpm_setup.conf" <<CONF
create_certs_tool = swtpm_localca
create_certs_tool_config = $ca/swtpm-localca.conf
create_certs_tool_options = $ca/swtpm-localca.options
active_pcr_banks = sha256
CONF
mkdir -p "$out/ek-certs"
swtpm_setup --tpm2 --tpmstate "$out/state" --create-ek-cert --create-platform-cert \
  --write-ek-cert-files "$out/ek-certs" \
  --config "$ca/swtpm_setup.conf" --overwrite >"$out/setup.log" 2>&1 ||
  { cat "$out/setup.log" >&2; exit 1; }
[ -s "$out/state/tpm2-00.permall" ] || { echo "swtpm_setup wrote no TPM state" >&2; exit 1; }
cat "$ca/swtpm-localca-rootca-cert.pem" "$ca/issuercert.pem" >"$out/roots.pem"
