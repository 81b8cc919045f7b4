# syntax=docker/dockerfile:1
# check=skip=JSONArgsRecommended,StageNameCasing;error=true
FROM alpine:3.19 AS Builder
RUN echo building > /artifact

FROM alpine:3.19
COPY --from=Builder /artifact /artifact
CMD cat /artifact
