# syntax=docker/dockerfile:1.7-labs
FROM golang:1.22 AS build
WORKDIR /go/src/monorepo
COPY --parents ./services/*/go.mod ./services/*/go.sum ./
COPY --parents --exclude=*_test.go ./libs/** ./
COPY --exclude=docs --exclude=*.md --exclude=testdata . .
RUN cd services/billing && go build -o /billing .

FROM gcr.io/distroless/base-debian12
COPY --from=build /billing /billing
CMD ["/billing"]
