# syntax=docker/dockerfile:1
# Build: docker build -t breachd .
# Run:   docker run --rm -p 8080:8080 -e REDIS_URL=redis://redis:6379/0 -e BREACHD_API_KEYS=admin:... breachd
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/breachd ./cmd/breachd

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/breachd /breachd
USER nonroot:nonroot
# Outside a container breachd without REDIS_URL listens on 127.0.0.1 only; in one, -p decides who reaches it.
ENV BREACHD_ADDR=:8080
EXPOSE 8080
ENTRYPOINT ["/breachd"]
