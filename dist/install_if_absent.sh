#!/bin/sh
# meson install script: install SRC as DEST (an absolute path, under $DESTDIR when set) with
# mode 0644, unless DEST exists: a configuration someone edited is never replaced.
set -eu
src=$1
dest=${DESTDIR:-}$2
if [ -e "$dest" ]; then
    echo "Keeping existing $dest"
    exit 0
fi
mkdir -p "$(dirname "$dest")"
cp "$src" "$dest.new.$$"
chmod 0644 "$dest.new.$$"
mv "$dest.new.$$" "$dest"
echo "Installing $src to $dest"
