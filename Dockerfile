# The cicd image, for GitLab/Jenkins users and `docker run`: the static binary alone on an empty
# base, run as a non-root user. The binary is built first (cargo, static: musl or glibc
# crt-static) and placed at dist/<arch>/cicd; nothing is compiled here.
#   docker buildx build --platform linux/amd64,linux/arm64 .
# cicd's own release builds the same image without Docker, from `images: [cicd]` in cicd.yaml
# (`cicd build cicd`, native backend): same file, path, user and entrypoint.
FROM scratch
ARG TARGETARCH
COPY --chmod=0755 dist/${TARGETARCH}/cicd /usr/local/bin/cicd
ENV PATH=/usr/local/bin
USER 65532:65532
ENTRYPOINT ["cicd"]
