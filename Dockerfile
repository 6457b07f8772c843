# fusionsim's command line as a container image: one static binary, nothing
# else (the image of deploy/kubernetes/sweep.yaml).
#
#   docker build -t fusionsim:latest .
#   docker run --rm -v "$PWD/results:/results" fusionsim:latest sweep --workload iot --space rules --out /results/iot-rules
#
# The Go version follows go.mod.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/simulate ./cmd/simulate \
	&& CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/emulator ./cmd/emulator \
	&& mkdir -p /out/results /out/tmp && chmod 1777 /out/tmp

FROM scratch
# CA certificates for --backend aws; /tmp for temporary files.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build --chown=65532:65532 /out/results /results
COPY --from=build /out/tmp /tmp
COPY --from=build /out/simulate /out/emulator /
USER 65532:65532
WORKDIR /results
ENTRYPOINT ["/simulate"]
CMD ["help"]
