ARG REGISTRY=docker.io
ARG BASE_IMAGE=library/debian
ARG BASE_TAG=bookworm-slim
ARG BUILDER_IMAGE=golang:1.22

FROM ${BUILDER_IMAGE} AS build
ARG BASE_TAG
RUN echo "building for ${BASE_TAG}" > /tag
COPY . /src
RUN cd /src && go build -o /bin/tagger .

FROM ${REGISTRY}/${BASE_IMAGE}:${BASE_TAG}
# A meta ARG has to be redeclared to be seen inside the stage.
ARG BASE_TAG
LABEL org.example.base-tag=$BASE_TAG
COPY --from=build /bin/tagger /usr/bin/tagger
COPY --from=build /tag /etc/tagger-base
CMD ["tagger"]
