#!/bin/sh
# The server's production install, run by the Dockerfile and, in a clean folder, by
# test/deploy-server-install.test.ts: `deploy/server-install.sh [extra npm ci flags, e.g. --offline]`
# in a folder holding package.json, package-lock.json and .npmrc.
#
# - `--omit=dev`: training (TensorFlow.js), benchmarks (autocannon), the web-demo build (esbuild,
#   onnxruntime-web, tsx) and the tests are devDependencies or optional peers, so none of them.
# - `--ignore-scripts`: no dependency install script runs, whatever the npm version. The server
#   needs none: sharp's and onnxruntime-node's CPU binaries are in their packages, and the CUDA
#   provider is fetched with its checksum verified (deploy/fetch-onnxruntime-cuda.js), not by
#   onnxruntime-node's unverified downloader. Nothing downloads libtensorflow.
# - onnxruntime-node ships binaries for five platforms; only this one's are kept.
set -eu
npm ci --omit=dev --ignore-scripts --no-audit --no-fund "$@"
platform="$(node -p 'process.platform + "/" + process.arch')"
bin=node_modules/onnxruntime-node/bin/napi-v6
for dir in "$bin"/*/*; do
  [ "$dir" = "$bin/$platform" ] || rm -rf "$dir"
done
echo "server-install: node_modules holds $(du -sm node_modules | cut -f1) MB (onnxruntime-node for $platform only)"
