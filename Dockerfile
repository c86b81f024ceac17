# archbench's container image: the command line without the app (load,
# merge, sweep, emulate, target, simulate, ...), for `archbench k8s`'s pods
# and for CI. Build it from the repository's top:
#
#   docker build -t archbench .
#   docker run --rm archbench simulate /usr/share/archbench/projects/three-tier.ron
#
# Two stages: the build, on the toolchain rust-toolchain.toml pins; then a
# distroless image holding only the binary (and glibc, which it links), the
# example projects, and no shell, running as the unprivileged user 65532,
# which `archbench k8s` manifests ask for. TLS is rustls: no OpenSSL.

FROM docker.io/library/rust:1.95.0-slim-bookworm AS build
WORKDIR /src
# The manifest and lock file first: the dependencies' layer is rebuilt only
# when they change.
COPY rust-toolchain.toml Cargo.toml Cargo.lock ./
COPY src src
COPY benches benches
COPY tests/tests.rs tests/tests.rs
RUN cargo build --release --locked --no-default-features --features loadgen \
    && cp target/release/archbench /archbench

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /archbench /usr/local/bin/archbench
COPY projects /usr/share/archbench/projects
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/archbench"]
CMD ["--help"]
