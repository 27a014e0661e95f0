# Rendered by mageship from its Dockerfile.tmpl. Build it with
#   docker buildx build --target runtime --build-arg VERSION=1.2.3 .
#   docker buildx build --target debug   --build-arg VERSION=1.2.3 .
#
# Only the build stage runs commands, and it runs on the build machine's own platform
# (--platform=$BUILDPLATFORM) and cross-compiles: building for another architecture
# never needs QEMU. The runtime and debug stages only copy files.

# ---- build: a static binary for $TARGETPLATFORM, compiled on $BUILDPLATFORM ----------
FROM --platform=$BUILDPLATFORM golang:1.26-alpine AS build
WORKDIR /src
# What the runtime image needs besides the binary: CA bundle, Go's own zoneinfo
# (read through ZONEINFO, so no tzdata package), and a passwd/group naming the user.
# /out/rootfs/ goes into both images, /out/users/ into the runtime image on scratch.
RUN mkdir -p /out/rootfs/etc/ssl/certs /out/rootfs/usr/share /out/users/etc && \
    cp /etc/ssl/certs/ca-certificates.crt /out/rootfs/etc/ssl/certs/ca-certificates.crt && \
    cp "$(go env GOROOT)/lib/time/zoneinfo.zip" /out/rootfs/usr/share/zoneinfo.zip && \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > /out/users/etc/passwd && \
    printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' > /out/users/etc/group
# The caller's Go module settings (set only when the caller has them).
ARG GOPROXY GONOPROXY GOPRIVATE GONOSUMDB GOSUMDB GOINSECURE GOFLAGS
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
# Modules first, in a layer of their own: a change to the source alone downloads
# nothing. They are in the layer, not in a cache mount, so --cache-to exports them and
# a brand-new CI builder gets them back with --cache-from. Only the service's own
# requirements are downloaded, not the magefile's (mageship, Mage).
# Private modules: pass a .netrc as a BuildKit secret (--secret id=netrc,src=$HOME/.netrc);
# it is mounted for this step only and never stored in a layer.
COPY go.mod go.sum* ./
RUN --mount=type=secret,id=netrc,target=/root/.netrc,required=false \
    go mod download github.com/google/uuid
COPY . .
ARG TARGETOS TARGETARCH TARGETVARIANT
ARG VERSION=dev
RUN --mount=type=cache,id=mageship-gobuild,target=/root/.cache/go-build \
    --mount=type=secret,id=netrc,target=/root/.netrc,required=false \
    GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=${TARGETVARIANT#v} \
    go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/rootfs/usr/local/bin/tsdb ./cmd/tsdb && \
    GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=${TARGETVARIANT#v} \
    go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/rootfs/usr/local/bin/tsdbctl ./cmd/tsdbctl
# Image.Files, owned by root and not writable by the image's user; the directories
# WorkDir and Volumes name, which the images give to the user, and those above them.
RUN mkdir -p /out/files /out/owned /out/owned/tsdb /out/owned/var/lib/tsdb /out/parents/var/lib /out/parents/var
COPY etc/tsdb.yml /out/files/etc/tsdb/tsdb.yml
RUN chmod -R u+w,a+rX,go-w /out/files

# ---- debug: the same binary on a base with a shell, to sh into beside production ----
# COPY --link makes the layer independent of the base: a builder that starts empty
# (CI) does not have to pull the base to add it.
FROM alpine:3.22 AS debug
ARG VERSION=dev REVISION= CREATED= SOURCE=
COPY --link --from=build /out/rootfs/ /
COPY --link --from=build /out/files/ /
COPY --link --chown=65534:65534 --from=build /out/owned/ /
COPY --link --from=build /out/parents/ /
ENV ZONEINFO=/usr/share/zoneinfo.zip \
    TSDB_MODE="server" \
    TSDB_MOTD="say \"hi\" \\ \$HOME"
LABEL com.example.team="storage" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.created="${CREATED}"
USER 65534:65534
EXPOSE 8080
EXPOSE 9090
WORKDIR /tsdb
VOLUME ["/tsdb","/var/lib/tsdb"]
ENTRYPOINT ["/usr/local/bin/tsdb"]
CMD ["--config.file=/etc/tsdb/tsdb.yml","--storage.path=/tsdb","--name=a \"b\" $c"]

# ---- runtime: production, the binary and the few files it needs, nothing else --------
FROM scratch AS runtime
ARG VERSION=dev REVISION= CREATED= SOURCE=
COPY --link --from=build /out/users/ /
COPY --link --from=build /out/rootfs/ /
COPY --link --from=build /out/files/ /
COPY --link --chown=65534:65534 --from=build /out/owned/ /
COPY --link --from=build /out/parents/ /
ENV ZONEINFO=/usr/share/zoneinfo.zip \
    TSDB_MODE="server" \
    TSDB_MOTD="say \"hi\" \\ \$HOME"
LABEL com.example.team="storage" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.created="${CREATED}"
USER 65534:65534
EXPOSE 8080
EXPOSE 9090
WORKDIR /tsdb
VOLUME ["/tsdb","/var/lib/tsdb"]
ENTRYPOINT ["/usr/local/bin/tsdb"]
CMD ["--config.file=/etc/tsdb/tsdb.yml","--storage.path=/tsdb","--name=a \"b\" $c"]
