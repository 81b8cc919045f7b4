FROM python:3.12-alpine
RUN ["pip", "install", "--no-cache-dir", "httpie==3.2.2"]
RUN ["/bin/sh", "-c", "echo exec form with a shell > /tmp/x"]
COPY ["local file.txt", "/data/with space/"]
ADD ["archive with space.tar.gz", "/opt/"]
VOLUME ["/data"]
SHELL ["/bin/ash", "-eo", "pipefail", "-c"]
ENTRYPOINT ["http"]
CMD ["--help"]
