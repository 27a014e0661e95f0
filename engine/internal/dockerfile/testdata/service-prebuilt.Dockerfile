# Rendered by mageship for its host build path: mageship compiled the binary on the
# machine it runs on (go build with the flags the container build path uses)
# into the build context, one folder per platform (linux_amd64/, linux_arm64/ ...).
# Nothing here runs a command or pulls a Go image: every stage only copies files.

# ---- build: the prebuilt files for $TARGETPLATFORM --------------------------------
# <os>_<arch>/rootfs/ holds the binary (usr/local/bin), the CA bundle (the Mozilla NSS
# roots as Go publishes them, x509roots/fallback) and the compiling Go's own
# lib/time/zoneinfo.zip; users/ holds mageship's passwd and group. Every file and
# folder carries the commit's time, so the layers depend on nothing else.
FROM scratch AS build
ARG TARGETOS TARGETARCH TARGETVARIANT
COPY ${TARGETOS}_${TARGETARCH}${TARGETVARIANT:+_}${TARGETVARIANT}/ /out/
COPY users/ /out/users/
# files/ holds Image.Files at their places in the image, not writable by the user.
COPY files/ /out/files/
# owned/ holds the directories WorkDir and Volumes name; parents/ those above them.
COPY owned/ /out/owned/
COPY parents/ /out/parents/

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
