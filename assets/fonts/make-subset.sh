#!/bin/sh
# Rebuilds DejaVuSans-subset.ttf, the font the charts in src/plot/ draw their text with.
#
# Source: DejaVuSans.ttf 2.37 from Debian's fonts-dejavu-core package (2.37-6,
# /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf, sha256 abdc775b...d68582322);
# license: LICENSE.txt beside this script (Bitstream Vera license; DejaVu changes are
# public domain). Subsetting is allowed by that license: the font keeps its DejaVu name,
# which contains neither "Bitstream" nor "Vera".
#
# Why a subset: the whole font is 760 KB and the charts only need Latin-1, Greek, a few
# math signs and super/subscripts; the subset is 49 KB inside the binary. Hinting is
# dropped (ab_glyph does not use it); the legacy `kern` table is kept (--legacy-kern),
# since ab_glyph reads kerning from it, not from GPOS. fonttools' subsetter is deterministic: the same
# inputs give the same bytes.
#
# Needs: apt-get install fonts-dejavu-core; pip install fonttools (4.68 was used).
set -eu
cd "$(dirname "$0")"
pyftsubset /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
    --unicodes="U+0020-007E,U+00A0-00FF,U+0391-03A9,U+03B1-03C9,U+2010-2027,U+2070-209F,U+2190-2193,U+2202,U+2207,U+2211,U+2212,U+221A,U+221E,U+2248,U+2260,U+2264,U+2265" \
    --no-hinting --layout-features='kern' --legacy-kern --name-IDs='*' \
    --output-file=DejaVuSans-subset.ttf
