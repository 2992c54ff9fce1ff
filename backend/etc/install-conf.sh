#!/bin/sh
# Run by `meson install`: put the example configuration in place as
# netbackd's configuration, unless there is one already. Meson has no
# "noreplace": installing it as an ordinary file would overwrite an
# administrator's edits on every `meson install`. The example itself is
# always installed (share/doc/netbackd/examples/netbackd.conf).
#
# usage: install-conf.sh EXAMPLE DEST   (DEST absolute; DESTDIR honoured)
set -eu
if [ $# -ne 2 ]; then
	echo "usage: $0 EXAMPLE DEST" >&2
	exit 2
fi
src=$1
dst=${DESTDIR:-}$2
if [ -e "$dst" ]; then
	echo "Keeping $dst (not replaced; the new example is in the docs)"
	exit 0
fi
install -D -m 0644 "$src" "$dst"
echo "Installing $src to $dst"
