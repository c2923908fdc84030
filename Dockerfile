# emseg segmentation server on an NVIDIA GPU node (see serve/README.md, "Deployment").
#
#   docker build -t emseg-serve .
#   docker run --gpus all -p 8787:8787 emseg-serve
#
# The image runs `emseg serve` with EMSEG_EP=cuda,cpu: the CUDA execution provider when the
# container sees a GPU (NVIDIA Container Toolkit, `--gpus all`), else the CPU with a logged warning.
# onnxruntime-node 1.30's CUDA provider needs CUDA 12 and cuDNN 9, both in this base image.

ARG CUDA_IMAGE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04
ARG NODE_MAJOR=20

# ---- build stage: full install (vite for the web demo), then the web demo's static files ----
FROM ${CUDA_IMAGE} AS build
ARG NODE_MAJOR
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg \
 && curl -fsSL https://deb.nodesource.com/setup_${NODE_MAJOR}.x | bash - \
 && apt-get install -y --no-install-recommends nodejs \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:web

# ---- runtime stage ----
FROM ${CUDA_IMAGE}
ARG NODE_MAJOR
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg \
 && curl -fsSL https://deb.nodesource.com/setup_${NODE_MAJOR}.x | bash - \
 && apt-get install -y --no-install-recommends nodejs \
 && apt-get purge -y curl gnupg && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /home/emseg emseg
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Production dependencies only. The project's .npmrc skips onnxruntime-node's download step and
# npm 11 blocks dependency install scripts unless allowed (`npm help install-scripts`), so the
# installer of the CUDA 12 provider libraries is run explicitly; ONNXRUNTIME_NODE_INSTALL wins
# over the .npmrc setting. The build fails here if the CUDA provider did not arrive.
RUN npm ci --omit=dev --no-audit --no-fund \
 && ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js \
 && test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so \
 && npm cache clean --force
COPY bin ./bin
COPY cli ./cli
COPY core ./core
COPY node ./node
COPY serve ./serve
COPY models ./models
COPY --from=build /app/web-demo/dist ./web-demo/dist

ENV NODE_ENV=production \
    EMSEG_EP=cuda,cpu \
    EMSEG_MODEL=models/isbi2012-unet.onnx \
    HOST=0.0.0.0 \
    PORT=8787
USER emseg
EXPOSE 8787
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 8787) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "bin/emseg.js", "serve"]
