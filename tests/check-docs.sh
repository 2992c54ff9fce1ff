#!/bin/sh
# The man pages say what the code does: netbackd(8)'s options are
# exactly those `netbackd --help` lists, and netbackd.conf(5)'s keys
# exactly those backend/base/conf.c parses, section by section. A new option
# or key fails this test until its page tells of it (and a page that
# keeps a removed one fails too).
#
# usage: check-docs.sh NETBACKD NETBACKD.8 NETBACKD.CONF.5 CONF.C
set -u
if [ $# -ne 4 ]; then
	echo "usage: $0 NETBACKD NETBACKD.8 NETBACKD.CONF.5 CONF.C" >&2
	exit 2
fi
netbackd=$1 man8=$2 man5=$3 confc=$4
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

# compare WHAT CODE-LIST DOC-LIST (files, one name a line)
compare() {
	sort -u "$2" > "$tmp/a"
	sort -u "$3" > "$tmp/b"
	if [ ! -s "$tmp/a" ]; then
		echo "FAIL $1: none found in the code (did its form change?)"
		fail=1
		return
	fi
	missing=$(comm -23 "$tmp/a" "$tmp/b")
	extra=$(comm -13 "$tmp/a" "$tmp/b")
	if [ -n "$missing" ] || [ -n "$extra" ]; then
		echo "FAIL $1"
		[ -z "$missing" ] || echo "  in the code, not in the page:" $missing
		[ -z "$extra" ] || echo "  in the page, not in the code:" $extra
		fail=1
	else
		echo "ok   $1: $(wc -l < "$tmp/a") names"
	fi
}

# Tag lines of a man page's .TP items in the sections whose .SH line
# matches $2, with \- turned into -.
tags() {
	awk -v sect="$2" '
		/^\.SH/ { insect = ($0 ~ sect); next }
		insect && prev == ".TP" { gsub(/\\-/, "-"); print }
		{ prev = $0 }' "$1"
}

# Options: "  -c, --config FILE ..." in --help, the first --name on an
# item's tag in OPTIONS.
"$netbackd" --help > "$tmp/help" || { echo "FAIL netbackd --help"; exit 1; }
sed -n 's/^ *\(-[A-Za-z], \)\{0,1\}--\([a-z][a-z-]*\).*/\2/p' "$tmp/help" \
	> "$tmp/code-opts"
tags "$man8" '^\.SH OPTIONS' |
	sed -n 's/^[^-]*\(-[A-Za-z][^-]*\)\{0,1\}--\([a-z][a-z-]*\).*/\2/p' \
	> "$tmp/doc-opts"
compare "netbackd(8) options against netbackd --help" \
	"$tmp/code-opts" "$tmp/doc-opts"

# Keys: strcmp(key, "NAME") in set_global() ([netbackd]) and in
# nb_conf_parse() ([network NAME]); "NAME = " on an item's tag.
keys_in() {
	awk -v fn="$1" '
		/^[a-z_]+\(/ { infn = ($0 ~ "^" fn "\\(") }
		infn { while (match($0, /strcmp\(key, "[a-z-]+"\)/)) {
			k = substr($0, RSTART + 13, RLENGTH - 15)
			print k
			$0 = substr($0, RSTART + RLENGTH) } }' "$confc"
}
doc_keys() {
	tags "$man5" "$1" | sed -n 's/^\.B[IR]* "\([a-z][a-z-]*\) = .*/\1/p'
}
keys_in set_global > "$tmp/code-g"
doc_keys '^\.SH "THE \[netbackd\] SECTION"' > "$tmp/doc-g"
compare "netbackd.conf(5) [netbackd] keys against conf.c" \
	"$tmp/code-g" "$tmp/doc-g"
keys_in nb_conf_parse > "$tmp/code-n"
doc_keys '^\.SH "THE \[network NAME\] SECTION"' > "$tmp/doc-n"
compare "netbackd.conf(5) [network] keys against conf.c" \
	"$tmp/code-n" "$tmp/doc-n"
exit $fail
