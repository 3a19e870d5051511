"""bench/tokenize/thai_text.py — Thai running text from gettext catalogues.

There is no Thai corpus in ../shared/corpora, but Debian packages that are
installed anyway (dpkg, apt, glib, gtk, iso-codes, ...) ship Thai message
catalogues in /usr/share/locale/th/LC_MESSAGES/*.mo. This prints their
translated strings, one message line per output line, keeping only lines
that are mostly Thai (more than half of their characters in U+0E00-U+0E7F).
Runs of white space become one space.

    python3 thai_text.py FILE.mo... > thai.txt
"""
import re
import struct
import sys

THAI = re.compile('[\u0e00-\u0e7f]')


def translations(path):
    """Yields the translated strings of one GNU .mo file."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 20:
        return
    magic = struct.unpack('<I', data[:4])[0]
    if magic == 0x950412de:
        end = '<'
    elif magic == 0xde120495:
        end = '>'
    else:
        return
    n, _orig_off, trans_off = struct.unpack(end + 'III', data[8:20])
    for i in range(n):
        length, off = struct.unpack(end + 'II', data[trans_off + 8 * i:trans_off + 8 * i + 8])
        # plural forms are NUL-separated
        yield from data[off:off + length].decode('utf-8', 'replace').split('\x00')


def main(paths):
    out = sys.stdout
    for path in paths:
        for msg in translations(path):
            for line in msg.split('\n'):
                line = ' '.join(line.split())
                if line and 2 * len(THAI.findall(line)) > len(line):
                    out.write(line + '\n')


if __name__ == '__main__':
    main(sys.argv[1:])
