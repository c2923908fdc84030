# emseg segmentation server on an NVIDIA GPU node (see serve/README.md, "Docker", and deploy/README.md).
#
#   docker build -t emseg-serve .
#   docker run --gpus all -p 8787:8787 emseg-serve
#
# The image runs `emseg serve` with EMSEG_EP=cuda,cpu: the CUDA execution provider when the
# container sees a GPU (NVIDIA Container Toolkit, `--gpus all`), else the CPU with a logged warning.
# Stages: `build` compiles dist/ and the web demo with the full install; `deps` is the server's
# production install (deploy/server-install.sh: no devDependencies, no install scripts);
# `cuda-provider` fetches onnxruntime's CUDA provider with its checksum verified (none is pinned
# yet: deploy/README.md, "CUDA provider"); the runtime stage is the CUDA base image with the Node
# binary, those three results and the shipped model, its native libraries checked with ldd.
# `npm run check:image` (scripts/check-image.sh) builds and runs the CPU variant on this machine.

# Node.js 26, the Active LTS line since October 2026 (Node 20 reached end of life on 2026-04-30).
ARG NODE_IMAGE=node:26-bookworm-slim
# The runtime stage's base: CUDA and cuDNN for onnxruntime's CUDA provider. The build checks with
# ldd that every library node and the provider need is in this image, so a mismatch fails here,
# not on the GPU node. scripts/check-image.sh builds a CPU image with RUNTIME_IMAGE set to a
# Debian base and WITH_CUDA=0 (no CUDA provider, EMSEG_EP=cpu).
ARG RUNTIME_IMAGE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04
# 1: fetch and install the CUDA provider (the GPU image); 0: leave it out (a CPU image).
ARG WITH_CUDA=1

# ---- build: full install, then dist/ (tsc) and web-demo/dist ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build && npm run build:web

# ---- deps: the server's production dependencies only ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY deploy/server-install.sh deploy/
RUN deploy/server-install.sh

# ---- cuda-provider: onnxruntime's CUDA provider libraries, checksum verified ----
FROM deps AS cuda-provider
ARG WITH_CUDA
# The .nupkg's SHA-512 as nuget.org publishes it (base64, its catalog's packageHash) or a SHA-256
# you computed yourself; without one the fetch refuses (deploy/README.md, "CUDA provider").
ARG ORT_CUDA_SHA512=
COPY deploy/fetch-onnxruntime-cuda.js deploy/
RUN mkdir -p /cuda-provider && if [ "$WITH_CUDA" = 1 ]; then \
      node deploy/fetch-onnxruntime-cuda.js /cuda-provider ${ORT_CUDA_SHA512:+--sha512 "$ORT_CUDA_SHA512"}; \
    fi

# ---- runtime ----
FROM ${RUNTIME_IMAGE} AS runtime
ARG WITH_CUDA
# Node 26's binary links libatomic.so.1 (and libstdc++, libgcc_s), which a minimal base may lack.
RUN if ! ldconfig -p | grep -q 'libatomic\.so\.1 '; then \
      apt-get update && apt-get install -y --no-install-recommends libatomic1 && rm -rf /var/lib/apt/lists/*; \
    fi
COPY --from=deps /usr/local/bin/node /usr/local/bin/node
COPY deploy/check-libraries.sh /usr/local/bin/emseg-check-libraries
# A numeric user, so that Kubernetes' runAsNonRoot can verify it (deploy/k8s/ sets the same IDs).
RUN groupadd --system --gid 10001 emseg && \
    useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/emseg --shell /usr/sbin/nologin emseg
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=cuda-provider /cuda-provider/ ./node_modules/onnxruntime-node/bin/napi-v6/linux/x64/
# Fails the build when a library that node, onnxruntime, sharp or (WITH_CUDA=1) the CUDA provider
# links against is missing from the base image, or when one of those files is missing.
RUN emseg-check-libraries /usr/local/bin/node node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64-*.node && \
    if [ "$WITH_CUDA" = 1 ]; then emseg-check-libraries node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_shared.so; fi
COPY package.json ./
COPY bin/emseg.js ./bin/
COPY --from=build /app/dist ./dist
COPY --from=build /app/web-demo/dist ./web-demo/dist
COPY models/isbi2012-unet.onnx models/isbi2012-unet.json models/isbi2012-unet.int8.onnx models/isbi2012-unet.int8.json ./models/

# MALLOC_MMAP_THRESHOLD_: glibc gives buffers of 1 MiB and more back to the system when freed
# (serve/memory-return.ts; without it RSS stays near its peak after big requests).
ENV NODE_ENV=production \
    MALLOC_MMAP_THRESHOLD_=1048576 \
    EMSEG_EP=cuda,cpu \
    EMSEG_MODEL=models/isbi2012-unet.onnx \
    HOST=0.0.0.0 \
    PORT=8787
USER 10001:10001
EXPOSE 8787
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8787) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/emseg.js"]
CMD ["serve"]
