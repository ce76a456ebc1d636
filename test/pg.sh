#!/usr/bin/env bash
# Build another PostgreSQL major version once, cache it outside the work
# tree, and print its bin directory as the last line:
#
#     PG_BIN=$(bash test/pg.sh 18 | tail -n 1) make test
#
# Source: Debian's own source package (apt-get source, suite sid) first;
# when that cannot be downloaded, the upstream tarball named by PG_SOURCE=
# (or found beside the repository in ../shared/pg-src), checked against the
# SHA-256 Debian's .dsc records for it.  The build is cached under
# PG_CACHE (default /var/cache/pitr_restore) and reused while its stamp
# matches the source version.  Run as root on Debian 12.
set -euo pipefail
# One block, read whole before it runs: a checkout that rewrites this file
# during the long build cannot change what the running build executes.
{
major=${1:?usage: test/pg.sh MAJOR (18)}
top=$(cd "$(dirname "$0")/.." && pwd)

case "$major" in
18)
	version=18.6
	sha256=555610c24d53e4316da5b7d3fc25c279d96856d5e0e23ee308c328c5fa881d9f
	;;
*)
	echo "test/pg.sh: no source known for PostgreSQL $major (18 is)" >&2
	exit 2
	;;
esac

cache=${PG_CACHE:-/var/cache/pitr_restore}
prefix="$cache/pg-$version"
stamp="$prefix/.pitr_restore_built"
if [ -f "$stamp" ] && [ -x "$prefix/bin/pg_config" ]; then
	echo "PostgreSQL $version already built in $prefix" >&2
	echo "$prefix/bin"
	exit 0
fi

build_packages="bison flex libreadline-dev zlib1g-dev libzstd-dev liblz4-dev
libssl-dev libxml2-dev libipc-run-perl dpkg-dev make gcc bzip2"
missing=""
for p in $build_packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq $missing >/dev/null
fi

work=$(mktemp -d /tmp/pitr_restore_pg.XXXXXX)
trap 'rm -rf "$work"' EXIT
tarball="postgresql-${major}_${version}.orig.tar.bz2"

# Debian's source package first: a separate sources list for sid's deb-src,
# used for this one download only.
fetch_from_debian()
{
	local lists="$work/apt" mirror
	# The machine's own Debian mirror (enabled lists only).
	mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -E '^(deb|URIs:)' | grep -oE 'https?://[^ ]+/debian/?' | head -n 1 || true)
	[ -n "$mirror" ] || return 1
	mkdir -p "$lists/lists/partial" "$lists/archives/partial"
	echo "deb-src $mirror sid main" >"$lists/sources.list"
	local opts=(-o Dir::Etc::SourceList="$lists/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o Dir::State::Lists="$lists/lists" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
	timeout 300 apt-get "${opts[@]}" update -qq >&2 || return 1
	# sid's current revision of the package; verify() below insists on the
	# tarball of $version.
	(cd "$work" && timeout 600 apt-get "${opts[@]}" source --download-only "postgresql-$major" >&2) ||
		return 1
	[ -f "$work/$tarball" ]
}

verify()
{
	echo "$sha256  $1" | sha256sum -c --quiet - >&2
}

if fetch_from_debian && verify "$work/$tarball"; then
	src="$work/$tarball"
	echo "using Debian's source package postgresql-$major $version" >&2
else
	src=${PG_SOURCE:-}
	if [ -z "$src" ]; then
		for d in "$top/../shared/pg-src" "$top/../../shared/pg-src"; do
			[ -f "$d/$tarball" ] && src="$d/$tarball" && break
		done
	fi
	if [ -z "$src" ] || [ ! -f "$src" ]; then
		echo "test/pg.sh: Debian's source package could not be downloaded and PG_SOURCE names no tarball" >&2
		exit 1
	fi
	verify "$src" || { echo "test/pg.sh: $src does not match the SHA-256 of $tarball" >&2; exit 1; }
	echo "using $src (checksum verified)" >&2
fi

tar -C "$work" -xjf "$src"
cd "$work/postgresql-$version"
rm -rf "$prefix"
./configure --prefix="$prefix" --enable-tap-tests --with-zstd --with-lz4 \
	--without-icu --with-openssl >"$work/configure.log" 2>&1 ||
	{ tail -30 "$work/configure.log" >&2; exit 1; }
make -j"$(nproc)" -s world-bin >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; exit 1; }
make -s install-world-bin >"$work/install.log" 2>&1 || { tail -40 "$work/install.log" >&2; exit 1; }
# The TAP framework's modules, for PGXS's prove (installed by
# install-world-bin under lib/pgxs/src/test/perl).
echo "$version" >"$stamp"
echo "PostgreSQL $version built in $prefix" >&2
echo "$prefix/bin"
exit 0
}
