#!/usr/bin/env bash
# Installs what the tests run, for `make tools`:
#   - the Go tools pinned in tools/go.mod (its `tool` block: the badger CLI,
#     MinIO, the age CLI and age-keygen, gotestsum), built into BIN once per version: the
#     stamp STAMPS/NAME@VERSION marks one built, so a rerun does nothing;
#   - the system programs the tests call (curl, jq, bash), from the system's
#     packages when this runs as root with apt-get, else a failure naming them.
#
#   tools/install.sh [BIN]       # BIN defaults to .tools/bin of the repository
#
# A new tool or version: `cd tools && go get -tool PKG@VERSION`, then make tools.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
bin="${1:-../.tools/bin}"
mkdir -p "$bin"
bin="$(cd "$bin" && pwd)"
stamps="$(dirname "$bin")/stamps"
mkdir -p "$stamps"

# pinned_tools prints "PACKAGE VERSION" for each tool of go.mod, VERSION being
# that of the longest required module path the package lies in.
pinned_tools() {
	awk '
		/^tool \($/ { block = "tool"; next }
		/^require \($/ { block = "require"; next }
		/^\)/ { block = ""; next }
		/^tool [^(]/ { tools[$2] = 1; next }
		/^require [^(]/ { mods[$2] = $3; next }
		block == "tool" && NF >= 1 { tools[$1] = 1 }
		block == "require" && NF >= 2 { mods[$1] = $2 }
		END {
			for (p in tools) {
				best = ""
				for (m in mods)
					if ((p == m || index(p, m "/") == 1) && length(m) > length(best)) best = m
				if (best == "") { print "tools/go.mod: no required module holds the tool " p > "/dev/stderr"; exit 1 }
				print p, mods[best]
			}
		}
	' go.mod | sort
}

# binary_name is the name go install gives the command of package $1.
binary_name() {
	local name="${1##*/}"
	if [[ "$name" =~ ^v[0-9]+$ ]]; then
		name="$(basename "$(dirname "$1")")"
	fi
	echo "$name"
}

install_go_tools() {
	local pkg version name stamp started
	while read -r pkg version; do
		name="$(binary_name "$pkg")"
		stamp="$stamps/$name@$version"
		if [ -e "$stamp" ] && [ -x "$bin/$name" ]; then
			continue
		fi
		echo "tools: building $name $version into $bin (once per version)"
		started=$SECONDS
		GOBIN="$bin" go install "$pkg"
		rm -f "$stamps/$name@"*
		touch "$stamp"
		echo "tools: built $name in $((SECONDS - started)) s"
	done < <(pinned_tools)
}

# install_system_programs makes sure each PROGRAM:PACKAGE argument's program
# is on PATH: installed with apt-get when this runs as root on Debian or
# Ubuntu, else a failure naming the packages to install.
install_system_programs() {
	local pair missing=()
	for pair in "$@"; do
		command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "tools: installing ${missing[*]} with apt-get"
		apt-get update
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
		return 0
	fi
	echo "tools: the tests need ${missing[*]}, which Go cannot build: install them with your system's package manager (Debian/Ubuntu: sudo apt-get install ${missing[*]}), then run make tools again" >&2
	return 1
}

install_system_programs curl:curl jq:jq bash:bash
install_go_tools
