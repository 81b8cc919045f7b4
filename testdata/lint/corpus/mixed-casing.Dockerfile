FROM debian:bookworm-slim AS Base
Run echo mixed
run echo lower
RUN echo upper
FROM base as final
Copy --from=Base /etc/os-release /tmp/
Cmd ["cat", "/tmp/os-release"]
