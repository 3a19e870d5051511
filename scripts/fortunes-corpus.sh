#!/bin/sh
# Builds a labelled language-identification corpus from the fortune-cookie
# packages of the Debian archive: one fortune = one document, label = the
# ISO 639-1 code of its language.
#
#   sh scripts/fortunes-corpus.sh OUTDIR
#
# writes OUTDIR/train.tsv, OUTDIR/dev.tsv and OUTDIR/test.tsv in the format of
# ../shared/corpora (UTF-8, `label<TAB>text`, no header, rows in a seeded random
# order) and prints the number of documents per language. Missing packages are
# installed first (root or sudo; apt-get update only when something is
# missing); a language whose package the archive lacks is skipped with a
# warning. Offensive sets (off/ folders) and ASCII-art sets are left out.
#
# Each fortune (the text between lines holding only "%") becomes one document:
# terminal escapes and underline overstriking removed, control characters and
# runs of white space turned into one space. Documents of fewer than 3 words
# (4 CJK characters for Chinese), mostly made of punctuation (ASCII art),
# repeated within a language (kept once) or found under two languages (dropped)
# are left out. Each language is capped at CAP documents (default 3000) by a
# seeded sample and split 80/10/10 (test and dev are round(10%) each).
# The same packages give the same files, byte for byte.
#
# Environment: CAP (documents per language), SEED (default 13),
# LANGS (space-separated subset of the codes below, default all).
set -eu

usage() { echo "usage: sh scripts/fortunes-corpus.sh OUTDIR" >&2; exit 2; }
[ $# -eq 1 ] || usage
case $1 in -h|--help) usage ;; esac
out=$1
cap=${CAP:-3000}
seed=${SEED:-13}

# language code, then the packages that hold it. fortunes-fr does not exist
# in Debian; fortunes-ga (Irish) is too small to be a class (a few dozen).
table='en fortunes fortunes-min
de fortunes-de
it fortunes-it
es fortunes-es
pt fortunes-br
pl fortunes-pl
cs fortunes-cs
ru fortunes-ru
bg fortunes-bg
eo fortunes-eo
zh fortunes-zh'
langs=${LANGS:-$(echo "$table" | cut -d' ' -f1 | tr '\n' ' ')}

# The charset a file of each language was written in before UTF-8, tried only
# when a file is not valid UTF-8 and has no valid .u8 twin.
legacy_charset() {
    case $1 in
        pl|cs) echo ISO-8859-2 ;;
        ru)    echo KOI8-R ;;
        bg)    echo CP1251 ;;
        eo)    echo ISO-8859-3 ;;
        zh)    echo GB18030 ;;
        *)     echo CP1252 ;;
    esac
}

# Files that are no prose in the language of their package: ASCII art, and
# the one Slovak file of fortunes-cs, the English/German pairs of fortunes-de.
skip_file() {
    case $1 in
        */off/*|*/ascii-art|*/de/asciiart|*/it/banner|*/pl/cows|*/cs/klasik-sk|*/de/translations) return 0 ;;
    esac
    return 1
}

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

export LC_ALL=C   # byte semantics for awk and sort: same output everywhere

# --- 1. install what is missing ------------------------------------------
wanted=""
for l in $langs; do
    pkgs=$(echo "$table" | awk -v l="$l" '$1 == l { $1 = ""; print }')
    if [ -z "$pkgs" ]; then
        echo "fortunes-corpus: unknown language code '$l'" >&2; exit 2
    fi
    wanted="$wanted $pkgs"
done
missing=""
for p in $wanted; do
    installed "$p" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        sudo=""
    elif command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        echo "fortunes-corpus: need root (or sudo) to install:$missing" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    echo "fortunes-corpus: installing:$missing" >&2
    $sudo apt-get update -qq
    available=""
    for p in $missing; do
        cand=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ { print $2 }')
        if [ -n "$cand" ] && [ "$cand" != "(none)" ]; then
            available="$available $p"
        else
            echo "fortunes-corpus: warning: package $p is not in the archive" >&2
        fi
    done
    if [ -n "$available" ]; then
        # shellcheck disable=SC2086
        $sudo apt-get install -y -qq --no-install-recommends $available >&2
    fi
fi

# --- 2. one line per fortune, per language -------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fortunes-corpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# Seeded shuffle of stdin lines: a key from the Park-Miller generator
# (x = 16807 x mod 2^31-1, exact in any awk's doubles, so every awk gives the
# same order), sort by key, drop the key. (shuf --random-source with a
# repeated byte stream gives visibly clustered orders.)
shuffle() {
    awk -v seed="$1" 'BEGIN { x = seed % 2147483646 + 1; for (i = 0; i < 8; i++) x = (x * 16807) % 2147483647 }
                      { x = (x * 16807) % 2147483647; printf "%010d\t%s\n", x, $0 }' |
        sort | cut -f2-
}

# The awk filter below reads fortune files and prints `lang<TAB>text` for each
# fortune worth keeping. POSIX awk (mawk) with LC_ALL=C: all byte-wise.
cat > "$tmp/split.awk" <<'EOF'
BEGIN {
    ESC = sprintf("%c", 27); BS = sprintf("%c", 8); DEL = sprintf("%c", 127)
    ansi = ESC "\\[[0-9;?]*[A-Za-z]"
    ctrl = "[" sprintf("%c", 1) "-" sprintf("%c", 31) DEL "]"
    # U+0085, U+2028, U+2029 count as line breaks in the shared corpora;
    # no-break and ideographic spaces are squeezed like spaces
    ubrk = sprintf("%c[%c%c]|%c%c[%c%c]|%c%c%c", 194, 133, 160, 226, 128, 168, 169, 227, 128, 128)
    doc = ""
}
function flush(   t, u, n, nw, w, letters, cjk) {
    t = doc; doc = ""
    gsub(/  +/, " ", t); sub(/^ /, "", t); sub(/ $/, "", t)
    if (t == "") return
    nw = split(t, w, " ")
    u = t; cjk = gsub(/[\344-\351][\200-\277][\200-\277]/, "", u)   # U+4000-U+9FFF
    if (nw < 3 && cjk < 4) return
    # ASCII art and the like: fewer letters than other marks
    u = t; gsub(/ /, "", u); n = length(u)
    letters = gsub(/[A-Za-z0-9\200-\377]/, "", u)
    if (letters * 2 < n) return
    if (seen[t]++) return
    print lang "\t" t
}
{
    line = $0
    sub(/\r$/, "", line)
    if (line == "%" || line == "%%") { flush(); next }
    gsub(ansi, "", line)                 # colour escapes (fortunes-zh)
    gsub("_+" BS "+", "", line)          # underlining: ___^H^H^Hnot
    gsub(ctrl, " ", line)                # TAB, stray CR, other controls
    gsub(ubrk, " ", line)                # U+0085 U+00A0 U+2028 U+2029 U+3000
    doc = doc " " line
}
END { flush() }
EOF

: > "$tmp/all.tsv"
for l in $langs; do
    pkgs=$(echo "$table" | awk -v l="$l" '$1 == l { $1 = ""; print }')
    : > "$tmp/files.$l"
    for p in $pkgs; do
        installed "$p" || continue
        dpkg -L "$p" | grep '^/usr/share/games/fortunes/' >> "$tmp/files.$l" || true
    done
    sort -u -o "$tmp/files.$l" "$tmp/files.$l"
    nfiles=0
    : > "$tmp/text.$l"
    while IFS= read -r f; do
        # regular files only: symlinks point at files listed anyway
        if [ ! -f "$f" ] || [ -L "$f" ]; then continue; fi
        case $f in *.dat|*.u8) continue ;; esac
        ! skip_file "$f" || continue
        if iconv -f UTF-8 -t UTF-8 "$f" > "$tmp/one" 2>/dev/null; then
            :
        elif [ -f "$f.u8" ] && [ ! -L "$f.u8" ] && [ -s "$f.u8" ] &&
             iconv -f UTF-8 -t UTF-8 "$f.u8" > "$tmp/one" 2>/dev/null; then
            :
        elif iconv -f "$(legacy_charset "$l")" -t UTF-8 "$f" > "$tmp/one" 2>/dev/null; then
            echo "fortunes-corpus: $f: converted from $(legacy_charset "$l")" >&2
        else
            echo "fortunes-corpus: warning: $f: unknown encoding, skipped" >&2
            continue
        fi
        cat "$tmp/one" >> "$tmp/text.$l"
        printf '\n%%\n' >> "$tmp/text.$l"   # a file may lack its final "%"
        nfiles=$((nfiles + 1))
    done < "$tmp/files.$l"
    if [ "$nfiles" -eq 0 ]; then
        echo "fortunes-corpus: warning: no fortune files for '$l' (package$pkgs missing?), language skipped" >&2
        continue
    fi
    awk -v lang="$l" -f "$tmp/split.awk" "$tmp/text.$l" >> "$tmp/all.tsv"
    echo "$l $nfiles" >> "$tmp/nfiles"
done

# A text found under two labels (an English quote in a Polish set) says
# nothing about either: drop every copy.
awk -F '\t' 'NR == FNR { if (($2 in lab) && lab[$2] != $1) bad[$2] = 1; lab[$2] = $1; next }
             !($2 in bad)' "$tmp/all.tsv" "$tmp/all.tsv" > "$tmp/clean.tsv"

# --- 3. sample, split, shuffle ---------------------------------------------
: > "$tmp/train" ; : > "$tmp/dev" ; : > "$tmp/test" ; : > "$tmp/counts"
# shellcheck disable=SC2013  # labels are single words
for l in $(cut -f1 "$tmp/clean.tsv" | sort -u); do
    # sorted first, so the sample depends on the texts only, not file order
    awk -F '\t' -v l="$l" '$1 == l' "$tmp/clean.tsv" | sort > "$tmp/lang.all"
    found=$(wc -l < "$tmp/lang.all")
    shuffle "$seed" < "$tmp/lang.all" | head -n "$cap" > "$tmp/lang"
    n=$(wc -l < "$tmp/lang")
    awk -v n="$n" -v t="$tmp" '
        BEGIN { nt = int(n / 10 + 0.5); nd = nt }
        NR <= nt          { print >> (t "/test"); next }
        NR <= nt + nd     { print >> (t "/dev");  next }
                          { print >> (t "/train") }' "$tmp/lang"
    nt=$(( (n + 5) / 10 ))
    printf '%s\t%d\t%d\t%d\t%d\t%d\n' "$l" "$found" "$((n - 2 * nt))" "$nt" "$nt" "$n" >> "$tmp/counts"
done

mkdir -p "$out"
for s in train dev test; do
    shuffle "$seed" < "$tmp/$s" > "$tmp/$s.tsv"
    if ! iconv -f UTF-8 -t UTF-8 "$tmp/$s.tsv" > /dev/null 2>&1; then
        echo "fortunes-corpus: internal error: $s.tsv is not valid UTF-8" >&2
        exit 1
    fi
done
for s in train dev test; do
    mv "$tmp/$s.tsv" "$out/$s.tsv"
done

awk -F '\t' '
    BEGIN { printf "%-5s %6s %7s %6s %6s %6s %6s\n", "lang", "files", "usable", "train", "dev", "test", "kept" }
    NR == FNR { files[$1] = $2; next }
    { printf "%-5s %6d %7d %6d %6d %6d %6d\n", $1, files[$1], $2, $3, $4, $5, $6
      f += files[$1]; g += $2; a += $3; b += $4; c += $5; d += $6 }
    END { printf "%-5s %6d %7d %6d %6d %6d %6d\n", "all", f, g, a, b, c, d }' \
    FS=' ' "$tmp/nfiles" FS='\t' "$tmp/counts"
echo "fortunes-corpus: $(( $(wc -l < "$tmp/all.tsv") - $(wc -l < "$tmp/clean.tsv") )) fortunes dropped: same text under two languages"
echo "fortunes-corpus: wrote $out/train.tsv, $out/dev.tsv, $out/test.tsv"
