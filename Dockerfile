# x509-idp container image: Node 24 LTS, TypeScript run directly by Node (no build step).
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production IDP_DATA_DIR=/app/data MALLOC_ARENA_MAX=2
# Dependencies first (cached layer); postinstall generates the Prisma clients from prisma/.
COPY package.json package-lock.json prisma.config.ts ./
COPY .ci/node24.sh .ci/node24.sh
COPY prisma prisma
RUN npm ci --omit=dev && npm cache clean --force
COPY bin bin
COPY src src
COPY views views
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 8443
ENTRYPOINT ["node", "--max-semi-space-size=8", "src/main.ts"]
CMD ["serve"]
