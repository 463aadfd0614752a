# syntax=docker/dockerfile:1
# Build: cgo is needed for the embedded SQLite driver (mattn/go-sqlite3);
# the sqlite_fts5 tag compiles in FTS5, which indexes lead search, and
# nomsgpack leaves out Gin's unused MessagePack codec (README, "Builds").
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -tags sqlite_fts5,nomsgpack -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/callbook ./cmd/callbook

# Run: a small Debian image (glibc for cgo), no compiler, a non-root user.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin callbook \
 && mkdir -p /data && chown callbook:callbook /data
COPY --from=build /out/callbook /usr/local/bin/callbook
USER callbook
WORKDIR /data
ENV CALLBOOK_ADDR=:8080 \
    CALLBOOK_DATABASE_URL=sqlite:/data/callbook.db
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/callbook"]
CMD ["serve"]
