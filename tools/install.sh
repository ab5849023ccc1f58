#!/usr/bin/env bash
# Installs what the tests run, for `make tools`:
#   - the Go tools pinned in tools/go.mod (its `tool` block: the badger CLI,
#     MinIO, the age CLI and age-keygen, gotestsum), built into BIN once per version: the
#     stamp STAMPS/NAME@VERSION marks one built, so a rerun does nothing;
#   - the system programs the tests call (curl, jq, bash), from the system's
#     packages when this runs as root with apt-get, else a failure naming them;
#   - Chromium for the console's browser tests: $FLOWG_CHROMIUM or
#     /usr/bin/chromium when there; else as root on Debian `apt-get install chromium`; else, without
#     root, Debian's chromium packages and the libraries it lacks fetched with
#     `apt-get download`, unpacked with `dpkg -x` into .tools/chromium, and a
#     wrapper .tools/bin/chromium that sets LD_LIBRARY_PATH (see
#     docs/testing.md, "Chromium for the console test").
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

# chromium_packages prints chromium, chromium-common and every package of
# their Depends closure (first alternative of each) that dpkg does not list
# as installed: what an unprivileged unpack needs beside the system's
# libraries.
chromium_packages() {
	local queue=(chromium chromium-common) seen=" " p d
	while [ "${#queue[@]}" -gt 0 ]; do
		p="${queue[0]}"
		queue=("${queue[@]:1}")
		case "$seen" in *" $p "*) continue ;; esac
		seen="$seen$p "
		if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			continue
		fi
		echo "$p"
		for d in $(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
			--no-replaces --no-enhances "$p" 2>/dev/null | awk '
				/^ *\|?(Pre)?Depends:/ { alt = ($1 ~ /^\|/); if (!skip) print $2; skip = alt }'); do
			d="${d%%:*}"
			case "$d" in "<"*) continue ;; esac
			queue+=("$d")
		done
	done
}

# install_chromium makes sure the browser tests find Chromium: the system's
# /usr/bin/chromium, or the unpacked copy's wrapper $bin/chromium.
install_chromium() {
	local root stamp wrapper pkgs started
	if [ -n "${FLOWG_CHROMIUM:-}" ]; then
		if [ -x "$FLOWG_CHROMIUM" ]; then
			return 0 # the browser asked for (make test FLOWG_CHROMIUM=...)
		fi
		echo "tools: FLOWG_CHROMIUM=$FLOWG_CHROMIUM is not an executable file: point it at a chromium binary, or unset it to let make tools install one" >&2
		return 1
	fi
	if [ -x /usr/bin/chromium ]; then
		return 0
	fi
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "tools: installing chromium with apt-get (the console's browser tests)"
		apt-get update
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
		return 0
	fi
	root="$(dirname "$bin")/chromium"
	wrapper="$bin/chromium"
	stamp="$stamps/chromium-unpacked"
	if [ -e "$stamp" ] && [ -x "$wrapper" ] && [ -x "$root/usr/lib/chromium/chromium" ]; then
		return 0
	fi
	if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
		echo "tools: the console's browser tests need Chromium: install it (Debian/Ubuntu: sudo apt-get install chromium; elsewhere your system's chromium package) or set FLOWG_CHROMIUM=/path/to/chromium, then run make tools again" >&2
		return 1
	fi
	started=$SECONDS
	mapfile -t pkgs < <(chromium_packages)
	echo "tools: no root and no /usr/bin/chromium: downloading ${pkgs[*]} with apt-get download into $root (once)"
	rm -rf "$root"
	mkdir -p "$root/debs"
	(cd "$root/debs" && apt-get download "${pkgs[@]}")
	for deb in "$root"/debs/*.deb; do
		dpkg -x "$deb" "$root"
	done
	rm -rf "$root/debs"
	cat >"$wrapper" <<WRAPPER
#!/bin/sh
# Chromium unpacked from Debian's packages by tools/install.sh, with the
# libraries the system lacks from the same unpack.
root="$root"
LD_LIBRARY_PATH="\$root/usr/lib/chromium:\$root/usr/lib/x86_64-linux-gnu:\$root/usr/lib/x86_64-linux-gnu/pulseaudio:\$root/usr/lib/aarch64-linux-gnu:\$root/usr/lib/aarch64-linux-gnu/pulseaudio\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
exec "\$root/usr/lib/chromium/chromium" "\$@"
WRAPPER
	chmod 0755 "$wrapper"
	if missing="$(LD_LIBRARY_PATH="$root/usr/lib/chromium:$root/usr/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu/pulseaudio:$root/usr/lib/aarch64-linux-gnu:$root/usr/lib/aarch64-linux-gnu/pulseaudio" \
		ldd "$root/usr/lib/chromium/chromium" | grep 'not found')"; then
		echo "tools: the unpacked chromium still lacks libraries:" >&2
		echo "$missing" >&2
		echo "tools: install them with your system's package manager, or install chromium itself (sudo apt-get install chromium)" >&2
		return 1
	fi
	touch "$stamp"
	echo "tools: chromium unpacked in $((SECONDS - started)) s; run it as $wrapper"
}

install_system_programs curl:curl jq:jq bash:bash
install_go_tools
install_chromium
