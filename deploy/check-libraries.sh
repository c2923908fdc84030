#!/bin/sh
# Fails closed when the image cannot run a native file: run by the Dockerfile's runtime stage on
# node, onnxruntime's binding and (GPU image) the CUDA provider, and tested by
# test/deploy-check-libraries.test.ts. For each file: it must exist, be a dynamic ELF that ldd can
# read, and every library it links against must be found in the image. Exit 1 with one line per
# problem otherwise.
#
#   deploy/check-libraries.sh <file>...
set -u
if [ "$#" -eq 0 ]; then
  echo "check-libraries: usage: check-libraries.sh <file>..." >&2
  exit 2
fi
status=0
for file in "$@"; do
  if [ ! -f "$file" ]; then
    echo "check-libraries: $file: no such file" >&2
    status=1
    continue
  fi
  if ! out="$(ldd "$file" 2>&1)"; then
    echo "check-libraries: $file: ldd could not read it: $(printf '%s' "$out" | tr '\n' ' ')" >&2
    status=1
    continue
  fi
  missing="$(printf '%s\n' "$out" | grep 'not found' | sed 's/^[[:space:]]*//; s/ => not found//' | tr '\n' ' ')"
  if [ -n "$missing" ]; then
    echo "check-libraries: $file needs libraries missing from this image: $missing" >&2
    status=1
  else
    echo "check-libraries: $file: all $(printf '%s\n' "$out" | grep -c '=>') linked libraries found"
  fi
done
exit "$status"
