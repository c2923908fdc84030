# emseg segmentation server on an NVIDIA GPU node (see serve/README.md, "Docker", and deploy/README.md).
#
#   docker build -t emseg-serve .
#   docker run --gpus all -p 8787:8787 emseg-serve
#
# The image runs `emseg serve` with EMSEG_EP=cuda,cpu: the CUDA execution provider when the
# container sees a GPU (NVIDIA Container Toolkit, `--gpus all`), else the CPU with a logged warning.
# Stages: `build` compiles dist/ and the web demo with the full install; `deps` is the server's
# production install (deploy/server-install.sh: no devDependencies, no install scripts);
# `cuda-provider` fetches onnxruntime's CUDA provider with its SHA-256 verified; the runtime stage
# is the CUDA base image with the Node binary, those three results and the shipped model.

# Node.js 26, the Active LTS line since October 2026 (Node 20 reached end of life on 2026-04-30).
ARG NODE_IMAGE=node:26-bookworm-slim
# CUDA and cuDNN runtime for onnxruntime's CUDA provider. The build checks with ldd that every
# library the provider needs is in this image, so a mismatch fails here, not on the GPU node.
ARG CUDA_IMAGE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04

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
COPY deploy/fetch-onnxruntime-cuda.js deploy/
RUN node deploy/fetch-onnxruntime-cuda.js /cuda-provider

# ---- runtime ----
FROM ${CUDA_IMAGE}
COPY --from=deps /usr/local/bin/node /usr/local/bin/node
RUN useradd --system --create-home --home-dir /home/emseg --shell /usr/sbin/nologin emseg
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=cuda-provider /cuda-provider/ ./node_modules/onnxruntime-node/bin/napi-v6/linux/x64/
# Fails the build when a library the CUDA provider links against is not in the base image.
RUN missing="$(ldd node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so | grep 'not found' || true)"; \
    if [ -n "$missing" ]; then echo "CUDA provider: libraries missing from ${CUDA_IMAGE:-the base image}:"; echo "$missing"; exit 1; fi
COPY package.json ./
COPY bin/emseg.js ./bin/
COPY --from=build /app/dist ./dist
COPY --from=build /app/web-demo/dist ./web-demo/dist
COPY models/isbi2012-unet.onnx models/isbi2012-unet.json models/isbi2012-unet.int8.onnx models/isbi2012-unet.int8.json ./models/

ENV NODE_ENV=production \
    EMSEG_EP=cuda,cpu \
    EMSEG_MODEL=models/isbi2012-unet.onnx \
    HOST=0.0.0.0 \
    PORT=8787
USER emseg
EXPOSE 8787
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8787) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/emseg.js"]
CMD ["serve"]
