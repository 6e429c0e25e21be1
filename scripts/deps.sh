#!/usr/bin/env bash
# deps.sh — make sure every Debian package postdesk needs is installed.
#
# Fast path: one dpkg-query call; if everything is installed, exit 0 silently.
# Otherwise (as root): apt-get update once, then install only what is missing,
# with a temporary /usr/sbin/policy-rc.d so package scripts don't start the
# system nginx/mariadb (we run private instances; see scripts/stack.sh).
set -Eeuo pipefail

PKGS=(
	build-essential pkg-config clang libclang-rt-14-dev
	iproute2 procps
	adduser util-linux # the stack as root: the postdesk user (adduser), setpriv; unshare, nsenter
	logrotate # tests/integration/test_logs.py
	libfcgi-dev libfcgi-bin spawn-fcgi
	libcurl4-openssl-dev libjansson-dev libmariadb-dev libsodium-dev
	libssl-dev # lib/adapt/jwks.c: RSA signatures of id_tokens (libcrypto)
	python3-cryptography # tests/fakes/fake_oidc.py signs id_tokens
	mariadb-server mariadb-client nginx openssl curl
	galera-4 rsync # scripts/galera.sh: the 3-node cluster (SST by rsync) of tests/integration/test_galera.py
	wrk cppcheck clang-format # make bench; make check (with grep)
	python3-pytest python3-requests python3-selenium
	python3-prometheus-client # tests/integration/test_metrics.py parses /api/metrics
	chromium chromium-driver
	dpkg-dev lintian systemd adduser # make deb and its test (tests/integration/test_deb.py)
)

# Tools from npm (registry.npmjs.org), pinned, each installed under
# build/tools/<scope-name>/ of this checkout (never globally); npm is
# Debian's unless Node.js already brings one.
NPM_TOOLS=(
	@redocly/cli@2.77.0 # make lint-openapi: docs/openapi.json
	axe-core@4.14.1 # tests/browser/conftest.py: axe.min.js audits every page the browser tests visit
)
command -v npm >/dev/null || PKGS+=(npm)

npm_tools() {
	local root spec name dir
	root=$(cd "$(dirname "$0")/.." && pwd)
	for spec in "${NPM_TOOLS[@]}"; do
		name=${spec%@*}
		name=${name#@}
		dir=$root/build/tools/${name//\//-}
		[[ -f $dir/.installed && $(<"$dir/.installed") == "$spec" ]] && continue
		mkdir -p "$dir"
		npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "$spec"
		echo "$spec" >"$dir/.installed"
	done
}

# "pkg<TAB>status" for every known package; unknown ones are simply absent
# (dpkg-query then complains on stderr and exits 1 — both are expected).
declare -A status=()
while IFS=$'\t' read -r pkg st; do
	[[ -n $pkg ]] && status[$pkg]=$st
done < <(dpkg-query -W -f='${Package}\t${Status}\n' "${PKGS[@]}" 2>/dev/null || true)

missing=()
for p in "${PKGS[@]}"; do
	[[ ${status[$p]:-} == "install ok installed" ]] || missing+=("$p")
done
((${#missing[@]} == 0)) && { npm_tools; exit 0; }

echo "deps: missing packages: ${missing[*]}" >&2
if ((EUID != 0)); then
	echo "deps: run as root (or install them yourself):" >&2
	echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi

# Keep package postinst scripts from starting system services. Only our own
# policy file is removed again; an existing one (Docker images ship one) stays.
POLICY=/usr/sbin/policy-rc.d
if [[ ! -e $POLICY ]]; then
	printf '#!/bin/sh\n# temporary, written by postdesk scripts/deps.sh\nexit 101\n' >"$POLICY"
	chmod 0755 "$POLICY"
	trap 'rm -f "$POLICY"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
echo "deps: installed ${missing[*]}" >&2
npm_tools
