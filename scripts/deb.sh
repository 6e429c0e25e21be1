#!/usr/bin/env bash
# deb.sh — make the Debian package from an installed tree ("make deb").
#
#   scripts/deb.sh STAGE OUT VERSION MAINTAINER
#
# STAGE is build/deb/debian/postdesk after "make install DESTDIR=STAGE
# PREFIX=/usr" (the debian/ layout is what dpkg-shlibdeps expects). This
# adds what a package holds besides the installed files — DEBIAN/ (control
# with the Depends dpkg-shlibdeps computes from the binaries, conffiles,
# md5sums, the maintainer scripts of packaging/deb/), the copyright and
# changelog, the man pages of packaging/man/, lintian's overrides — strips
# the binaries, sets every mode, and builds OUT with dpkg-deb, every file
# owned by root (--root-owner-group). Nothing outside STAGE's debian/
# directory (dpkg-shlibdeps' control file) and OUT is written.
set -Eeuo pipefail

(($# == 4)) || { echo "usage: $0 STAGE OUT VERSION MAINTAINER" >&2; exit 2; }
stage=$1 out=$2 version=$3 maintainer=$4
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pkg=$src/packaging
doc=$stage/usr/share/doc/postdesk
[[ -x $stage/usr/bin/postdesk-admin ]] || { echo "deb: $stage: not installed" >&2; exit 1; }

# Made by the postinst (owned by postdesk, which does not exist at unpack).
rm -rf "$stage/var"

# The programs (and postdesk-backup/-restore, scripts); the compiled ones
# stripped as Debian ships them.
progs=("$stage"/usr/bin/postdesk-* "$stage"/usr/lib/postdesk/postdesk-*)
bins=()
for p in "${progs[@]}"; do
	[[ $(head -c 4 "$p") == $'\x7fELF' ]] && bins+=("$p")
done
((${#bins[@]} == 4)) || { echo "deb: expected 4 compiled programs: ${bins[*]}" >&2; exit 1; }
strip --strip-unneeded --remove-section=.comment --remove-section=.note "${bins[@]}"

# Documentation and man pages.
install -d "$doc" "$stage/usr/share/man/man8" "$stage/usr/share/lintian/overrides"
install -m 0644 "$pkg/deb/copyright" "$doc/copyright"
gzip -9n <"$pkg/deb/changelog" >"$doc/changelog.gz"
gzip -9n <"$src/README.md" >"$doc/README.md.gz"
for m in "$pkg"/man/*.8; do
	gzip -9n <"$m" >"$stage/usr/share/man/man8/$(basename "$m").gz"
done
install -m 0644 "$pkg/deb/lintian-overrides" "$stage/usr/share/lintian/overrides/postdesk"

# Modes: directories and data 0755/0644, the programs 0755.
find "$stage" -path "$stage/DEBIAN" -prune -o -type d -exec chmod 0755 {} +
find "$stage" -path "$stage/DEBIAN" -prune -o -type f -exec chmod 0644 {} +
chmod 0755 "${progs[@]}"

# DEBIAN/
rm -rf "$stage/DEBIAN"
install -d -m 0755 "$stage/DEBIAN"
for s in postinst prerm postrm; do
	install -m 0755 "$pkg/deb/$s" "$stage/DEBIAN/$s"
done
(cd "$stage" && find etc -type f | sort | sed 's|^|/|') >"$stage/DEBIAN/conffiles"
(cd "$stage" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -print0 |
	sort -z | xargs -0 md5sum | sed 's|  \./|  |') >"$stage/DEBIAN/md5sums"

# Depends: the library packages of the binaries, with their versions.
# dpkg-shlibdeps runs in the directory above debian/ and wants a control.
top=$(cd "$stage/../.." && pwd)
[[ $(cd "$stage" && pwd) == "$top/debian/postdesk" ]] ||
	{ echo "deb: STAGE must be DIR/debian/postdesk" >&2; exit 2; }
printf 'Source: postdesk\n\nPackage: postdesk\nArchitecture: any\n' >"$top/debian/control"
shlibs=$(cd "$top" &&
	dpkg-shlibdeps -O "${bins[@]/#"$stage"/debian/postdesk}" |
	sed -n 's/^shlibs:Depends=//p')
[[ -n $shlibs ]] || { echo "deb: dpkg-shlibdeps found no libraries" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
arch=$(dpkg --print-architecture)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" \
	-e "s|@INSTALLED_SIZE@|$size|" -e "s|@SHLIBS@|$shlibs|" \
	"$pkg/deb/control.in" >"$stage/DEBIAN/control"
chmod 0644 "$stage"/DEBIAN/{control,conffiles,md5sums}

mkdir -p "$(dirname "$out")"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" >/dev/null
echo "deb: built $out"
