# ct in a container: the CLI plus the FUSE pieces mounts need.
#   docker build -t ct .
#   docker run --rm ct demo
#   docker run --rm -v "$PWD:/data" ct download /data/x.torrent --seeds HOST:PORT --download-dir /data
#   docker run --rm --device /dev/fuse --cap-add SYS_ADMIN --security-opt apparmor:unconfined \
#     -v /tmp/mnt:/mnt:shared -v "$PWD:/data" ct mount /mnt/t --mkdir /data/x.torrent --seeds HOST:PORT --download-dir /data
FROM node:20-bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fuse libfuse2 gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/* \
 && npm install -g pnpm@10.34.9
WORKDIR /opt/ct
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json ./
COPY packages ./packages
COPY stubs ./stubs
COPY tests/package.json ./tests/package.json
RUN pnpm install --frozen-lockfile && pnpm run build
ENTRYPOINT ["/opt/ct/packages/cli/dist/main.js"]
CMD ["serve", "--mount", "/mnt/ct", "--mkdir", "--http", "0.0.0.0:4444"]
