# Rendered by mageship for its host build path: mageship compiled the binary on the
# machine it runs on (go build with the flags the container build path uses)
# into the build context, one folder per platform (linux_amd64/, linux_arm64/ ...).
# Nothing here runs a command or pulls a Go image: every stage only copies files.

# ---- build: the prebuilt binary for $TARGETPLATFORM and the files beside it ---------
# The CA bundle is the Mozilla NSS roots as Go publishes them (x509roots/fallback);
# zoneinfo is the compiling Go's own lib/time/zoneinfo.zip; passwd/group are mageship's.
FROM scratch AS build
ARG TARGETOS TARGETARCH TARGETVARIANT
COPY ca-certificates.crt /out/etc/ssl/certs/ca-certificates.crt
COPY zoneinfo.zip /out/usr/share/zoneinfo.zip
COPY passwd group /out/etc/
COPY ${TARGETOS}_${TARGETARCH}${TARGETVARIANT:+_}${TARGETVARIANT}/hello /out/usr/local/bin/hello

# ---- debug: the same binary on a base with a shell, to sh into beside production ----
# COPY --link makes each layer independent of the base: a builder that starts empty
# (CI) does not have to pull the base to add them.
FROM alpine:3.22 AS debug
ARG VERSION=dev REVISION= CREATED= SOURCE=
COPY --link --from=build /out/etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --link --from=build /out/usr/share/zoneinfo.zip /usr/share/zoneinfo.zip
COPY --link --from=build /out/usr/local/bin/hello /usr/local/bin/hello
ENV ZONEINFO=/usr/share/zoneinfo.zip
LABEL org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.created="${CREATED}"
USER 65534:65534
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/hello"]

# ---- runtime: production, the binary and the few files it needs, nothing else --------
FROM scratch AS runtime
ARG VERSION=dev REVISION= CREATED= SOURCE=
COPY --link --from=build /out/etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --link --from=build /out/usr/share/zoneinfo.zip /usr/share/zoneinfo.zip
COPY --link --from=build /out/etc/passwd /out/etc/group /etc/
COPY --link --from=build /out/usr/local/bin/hello /usr/local/bin/hello
ENV ZONEINFO=/usr/share/zoneinfo.zip
LABEL org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.created="${CREATED}"
USER 65534:65534
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/hello"]
